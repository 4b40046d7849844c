import { buildApp } from './api/app.ts';
import { openTally } from './bootstrap.ts';
import { createChainWatchers } from './chains/create-watchers.ts';
import { type Config, redactedConfig } from './config.ts';
import { seedDemoIfEmpty } from './dev/seed-demo.ts';
import { Worker } from './jobs/worker.ts';
import { DeliveryWorker } from './webhooks/delivery-worker.ts';

/** Starts the gateway: database, migrations, worker loop, HTTP. Returns a stop function. */
export async function startGateway(config: Config): Promise<{ url: string; stop: () => Promise<void> }> {
  const tally = await openTally(config);
  if (config.mode === 'dev') {
    const demo = await seedDemoIfEmpty(tally);
    if (demo) {
      process.stdout.write(
        `\nDemo merchant ${demo.merchantId} created.\nAPI key (shown once, store it now):\n\n  ${demo.token}\n\n` +
          `Lost it? npx tally apikey create --merchant ${demo.merchantId} --name another-key\n\n`,
      );
    }
  }
  // Watchers first: expiry asks them whether the chain has been read up to an invoice's expiry.
  const chains = createChainWatchers(tally);
  tally.chainHealth = chains;
  chains.start();
  const { server } = buildApp(tally);
  const worker = new Worker(tally);
  worker.start();
  // Webhooks: numbers committed events and delivers them (src/webhooks/delivery-worker.ts).
  const deliveries = new DeliveryWorker(tally);
  deliveries.start();
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
      await server.close();
      await tally.database.close();
    },
  };
}
