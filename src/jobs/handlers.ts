import type { Tally } from '../context.ts';
import { applyFact } from '../invoices/apply-fact.ts';
import { loadInvoice } from '../invoices/invoice-store.ts';
import { monitoringUntil } from '../invoices/types.ts';
import { checkWalletGap, GAP_CHECK_INTERVAL_MS } from '../wallets/address-gap.ts';
import { topUpAddressPool } from '../wallets/address-pool.ts';
import { enqueueJob, rearmJob } from './job-store.ts';

export type JobHandler = (tally: Tally, payload: Record<string, unknown>) => Promise<JobResult>;
/** `retryAt` reschedules without counting as a failure (e.g. waiting for a chain watcher to catch up). */
export type JobResult = { done: true } | { retryAt: Date };

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Expiry fails closed: if the watcher of any of the invoice's networks has not read the chain up
 * to the expiry time, a payment may be sitting in an unread block, so the job waits instead.
 */
const expireInvoice: JobHandler = async (tally, payload) => {
  const merchantId = str(payload.merchantId);
  const invoiceId = str(payload.invoiceId);
  const invoice = await loadInvoice(tally.database.db, tally.database.dialect, merchantId, invoiceId);
  if (!invoice) return { done: true };
  const now = tally.clock.now();
  if (now < invoice.expiresAt) return { retryAt: invoice.expiresAt };
  const lagging = invoice.options.some((o) => !tally.chainHealth.caughtUpTo(o.network, invoice.expiresAt));
  if (lagging) return { retryAt: new Date(now.getTime() + 30_000) };
  await applyFact(tally, merchantId, invoiceId, { kind: 'expiry_due', id: 'expiry_due' });
  const windowEnd = monitoringUntil(invoice);
  await enqueueJob(tally.database.db, {
    kind: 'invoice.window_close',
    dedupeKey: `window:${invoiceId}`,
    payload,
    runAt: windowEnd,
    now,
  });
  return { done: true };
};

const closeWindow: JobHandler = async (tally, payload) => {
  const merchantId = str(payload.merchantId);
  const invoiceId = str(payload.invoiceId);
  const invoice = await loadInvoice(tally.database.db, tally.database.dialect, merchantId, invoiceId);
  if (!invoice) return { done: true };
  const now = tally.clock.now();
  const end = monitoringUntil(invoice);
  if (now < end) return { retryAt: end };
  if (invoice.options.some((o) => !tally.chainHealth.caughtUpTo(o.network, end)))
    return { retryAt: new Date(now.getTime() + 30_000) };
  await applyFact(tally, merchantId, invoiceId, { kind: 'window_closed', id: 'window_closed' });
  return { done: true };
};

const topUp: JobHandler = async (tally, payload) => {
  const walletId = str(payload.walletId);
  await topUpAddressPool(tally.database, walletId);
  // Revive the wallet's recurring gap check if it had failed for good (a pending one keeps its
  // schedule). Here, in the worker, the upsert's row lock costs the invoice path nothing.
  const wallet = await tally.database.db
    .selectFrom('wallets')
    .select('family')
    .where('id', '=', walletId)
    .executeTakeFirst();
  if (wallet?.family === 'bitcoin') {
    const now = tally.clock.now();
    await rearmJob(tally.database.db, {
      kind: 'wallet.gap_check',
      dedupeKey: `gap_check:${walletId}`,
      payload: { walletId },
      runAt: now,
      now,
    });
  }
  return { done: true };
};

/**
 * A Bitcoin wallet's address gap against the warning threshold (src/wallets/address-gap.ts). One
 * job per wallet (dedupe key gap_check:<wallet>), enqueued with the wallet, that reschedules
 * itself every GAP_CHECK_INTERVAL_MS for as long as the wallet exists: periodic instead of
 * re-armed by each allocation, which would put a row lock on the invoice-creation path.
 */
const gapCheck: JobHandler = async (tally, payload) => {
  const walletId = str(payload.walletId);
  const exists = await tally.database.db
    .selectFrom('wallets')
    .select('id')
    .where('id', '=', walletId)
    .executeTakeFirst();
  if (!exists) return { done: true };
  const outcome = await checkWalletGap(tally, walletId);
  if (outcome !== 'unchanged') tally.log.info({ wallet: walletId, outcome }, 'wallet address gap');
  return { retryAt: new Date(tally.clock.now().getTime() + GAP_CHECK_INTERVAL_MS) };
};

export const JOB_HANDLERS: Record<string, JobHandler> = {
  'invoice.expire': expireInvoice,
  'invoice.window_close': closeWindow,
  'wallet.top_up': topUp,
  'wallet.gap_check': gapCheck,
};
