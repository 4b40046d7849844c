import { BitcoinNode } from '../chains/bitcoin/bitcoin-node.ts';
import { BitcoinRpc } from '../chains/bitcoin/rpc-client.ts';
import { EvmRpc } from '../chains/evm/rpc-client.ts';
import { parseEvmRpc } from '../chains/evm/rpc-config.ts';
import type { Tally } from '../context.ts';
import { reconcileBitcoin } from '../reconciliation/reconcile-bitcoin.ts';
import { checkEvmRefunds } from '../refunds/evm-refund-watch.ts';
import { closeSettlementBatches, nextMidnight } from '../settlement/batches.ts';
import type { JobHandler } from './handlers.ts';
import { rearmJob } from './job-store.ts';

/** How often the scheduled reconciliation runs. */
export const RECONCILE_EVERY_MS = 60 * 60_000;

/** The node the gateway watches (configured, or the dev devnet's), for reconciliation. */
export function configuredBitcoinNode(tally: Tally): { node: BitcoinNode; network: string } | null {
  const { config } = tally;
  if (config.bitcoinRpcUrl !== '') {
    const rpc = new BitcoinRpc({
      url: config.bitcoinRpcUrl,
      user: config.bitcoinRpcUser,
      password: config.bitcoinRpcPassword,
    });
    return { node: new BitcoinNode(rpc, config.bitcoinNetwork), network: config.bitcoinNetwork };
  }
  return null;
}

/**
 * Recurring jobs of the money trail, each one row that reschedules itself (`retryAt`), so a
 * restart neither loses nor duplicates the schedule: hourly reconciliation, and the daily
 * settlement cutoff at 00:00 UTC (movements before it go into that day's batch).
 */
const reconcile: JobHandler = async (tally) => {
  const chain = configuredBitcoinNode(tally);
  const report = await reconcileBitcoin(tally, chain?.node ?? null, chain?.network ?? 'none');
  if (report.mismatches.length > 0)
    tally.log.warn(
      { run: report.id, mismatches: report.mismatches.length },
      'reconciliation found mismatches',
    );
  return { retryAt: new Date(tally.clock.now().getTime() + RECONCILE_EVERY_MS) };
};

const closeBatches: JobHandler = async (tally) => {
  const now = tally.clock.now();
  const cutoff = new Date(now);
  cutoff.setUTCHours(0, 0, 0, 0);
  const batches = await closeSettlementBatches(tally, cutoff);
  if (batches.length > 0) tally.log.info({ batches }, 'settlement batches closed');
  return { retryAt: nextMidnight(now) };
};

/** How often approved EVM token refunds are looked for on chain. */
export const EVM_REFUND_CHECK_MS = 30_000;

/** ERC-20 refunds on every EVM network Tally has a node for (src/refunds/evm-refund-watch.ts). */
const checkEvmRefundsJob: JobHandler = async (tally) => {
  const networks = new Map(parseEvmRpc(tally.config.evmRpc).networks);
  if (tally.devnet) networks.set('evm-devnet', [tally.devnet.rpcUrl]);
  for (const [network, urls] of networks) {
    const completed = await checkEvmRefunds(tally, network, new EvmRpc({ urls }));
    if (completed.length > 0) tally.log.info({ network, refunds: completed }, 'EVM refunds completed');
  }
  return { retryAt: new Date(tally.clock.now().getTime() + EVM_REFUND_CHECK_MS) };
};

export const MONEY_JOB_HANDLERS: Record<string, JobHandler> = {
  'reconciliation.run': reconcile,
  'settlement.close_batches': closeBatches,
  'refunds.evm_check': checkEvmRefundsJob,
};

/**
 * Arms the recurring jobs once (their dedupe keys make this idempotent across starts and processes),
 * and re-arms one that failed for good: a recurring job must not stop for the life of the database
 * because of ten passing errors (attempts add up over its whole life; decision 0015).
 */
export async function scheduleMoneyJobs(tally: Tally): Promise<void> {
  const now = tally.clock.now();
  await rearmJob(tally.database.db, {
    kind: 'reconciliation.run',
    dedupeKey: 'reconciliation.run',
    payload: {},
    runAt: new Date(now.getTime() + RECONCILE_EVERY_MS),
    now,
  });
  await rearmJob(tally.database.db, {
    kind: 'refunds.evm_check',
    dedupeKey: 'refunds.evm_check',
    payload: {},
    runAt: new Date(now.getTime() + EVM_REFUND_CHECK_MS),
    now,
  });
  await rearmJob(tally.database.db, {
    kind: 'settlement.close_batches',
    dedupeKey: 'settlement.close_batches',
    payload: {},
    runAt: nextMidnight(now),
    now,
  });
}
