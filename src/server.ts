import { buildApp } from './api/app.ts';
import { openTally } from './bootstrap.ts';
import { createChainWatchers } from './chains/create-watchers.ts';
import { parseEvmRpc } from './chains/evm/rpc-config.ts';
import { type Config, redactedConfig } from './config.ts';
import type { Tally } from './context.ts';
import type { Devnet } from './dev/devnet.ts';
import { seedDemoIfEmpty } from './dev/seed-demo.ts';
import { scheduleMoneyJobs } from './jobs/money-jobs.ts';
import { schedulePruneJob } from './jobs/prune-jobs.ts';
import { Worker } from './jobs/worker.ts';
import { assertPortFree } from './port-free.ts';
import { DeliveryWorker } from './webhooks/delivery-worker.ts';

interface Gateway {
  url: string;
  stop: () => Promise<void>;
}

/**
 * Starts the gateway: database, migrations, worker loop, HTTP. Returns a stop function. A start
 * that fails halfway (the port taken after all, a devnet that will not come up) stops whatever it
 * had started and throws, so the process exits instead of running headless.
 */
export async function startGateway(config: Config): Promise<Gateway> {
  await assertPortFree(config.host, config.port);
  const tally = await openTally(config);
  const started: Array<() => Promise<void>> = [() => tally.database.close()];
  try {
    return await startServices(tally, started);
  } catch (error) {
    for (const stop of started.reverse()) await stop().catch(() => {});
    throw error;
  }
}

/** Everything after the database; pushes a stopper for each part as soon as it runs. */
async function startServices(tally: Tally, started: Array<() => Promise<void>>): Promise<Gateway> {
  const { config } = tally;
  if (config.mode === 'dev') {
    const demo = await seedDemoIfEmpty(tally);
    if (demo) {
      process.stdout.write(
        `\nDemo merchant ${demo.merchantId} created.\nAPI key (shown once, store it now):\n\n  ${demo.token}\n\n` +
          `Lost it? npx tally apikey create --merchant ${demo.merchantId} --name another-key\n\n`,
      );
    }
  }
  // Dev mode with no node configured: a local anvil devnet (never in production mode).
  const devnet = await maybeStartDevnet(tally);
  if (devnet) started.push(() => devnet.stop());
  // Watchers first: expiry asks them whether the chain has been read up to an invoice's expiry.
  const chains = createChainWatchers(tally, {
    evm: devnet ? new Map([[devnet.network, [devnet.rpcUrl]]]) : new Map(),
    bitcoin: devnet?.bitcoin ?? null,
  });
  tally.chainHealth = chains;
  chains.start();
  started.push(() => chains.stop());
  const { server } = buildApp(tally);
  started.push(() => server.close());
  const worker = new Worker(tally);
  // Hourly reconciliation, the daily settlement cutoff (src/jobs/money-jobs.ts) and the hourly
  // prune of finished jobs (src/jobs/prune-jobs.ts). The worker also runs the invoice clock.
  await scheduleMoneyJobs(tally);
  await schedulePruneJob(tally);
  worker.start();
  started.push(() => worker.stop());
  // Webhooks: numbers committed events and delivers them (src/webhooks/delivery-worker.ts).
  const deliveries = new DeliveryWorker(tally);
  deliveries.start();
  started.push(() => deliveries.stop());
  const address = await server.listen({ host: config.host, port: config.port });
  process.stdout.write(`Tally listening on ${address} (${config.mode} mode, ${tally.database.dialect})\n`);
  tally.log.info(
    // The whole effective configuration, so an operator can see what the process runs with;
    // redactedConfig hides a database password.
    { url: address, config: redactedConfig(config) },
    'Tally listening',
  );
  if (config.rateSources.split(',').includes('fixed')) {
    tally.log.warn('Using fixed dev exchange rates; set TALLY_RATE_SOURCES=kraken,coinbase for real prices.');
  }
  return {
    url: address,
    stop: async () => {
      await worker.stop();
      await deliveries.stop();
      await chains.stop();
      await devnet?.stop();
      await server.close();
      await tally.database.close();
    },
  };
}

/**
 * Dev mode's devnet (src/dev/devnet.ts), loaded only when used: anvil is a dev dependency, which a
 * production install leaves out.
 */
async function maybeStartDevnet(tally: Tally): Promise<Devnet | null> {
  const { config } = tally;
  // Configuring any node means choosing one's own chains: the devnet is for `npm start` alone.
  const nodeConfigured = config.bitcoinRpcUrl !== '' || parseEvmRpc(config.evmRpc).networks.size > 0;
  if (config.mode !== 'dev' || config.devnet === 'off' || nodeConfigured) return null;
  const { startDevnet } = await import('./dev/devnet.ts');
  const devnet = await startDevnet(tally);
  tally.devnet = { rpcUrl: devnet.rpcUrl, bitcoinRpcUrl: devnet.bitcoin?.rpcUrl ?? null };
  process.stdout.write(
    `EVM devnet (anvil, chain id 31337) on ${devnet.rpcUrl}: test USDC and USDT deployed.\n` +
      (devnet.bitcoin
        ? `Bitcoin regtest (btcd) on ${devnet.bitcoin.rpcUrl}.\n`
        : 'Bitcoin regtest: install btcd (bash scripts/install-btcd.sh) to have it in the devnet.\n') +
      'Pay an invoice from its test customer: npx tally dev pay --invoice inv_… ' +
      '(or POST /v1/dev/invoices/{id}/pay)\n',
  );
  return devnet;
}
