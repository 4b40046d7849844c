import type { Tally } from '../context.ts';
import { applyFact } from '../invoices/apply-fact.ts';
import { loadInvoice } from '../invoices/invoice-store.ts';
import { monitoringUntil } from '../invoices/types.ts';
import { checkWalletGap } from '../wallets/address-gap.ts';
import { topUpAddressPool } from '../wallets/address-pool.ts';
import { enqueueJob } from './job-store.ts';
import { MONEY_JOB_HANDLERS } from './money-jobs.ts';
import { PRUNE_JOB_HANDLERS } from './prune-jobs.ts';

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
  await topUpAddressPool(tally.database, str(payload.walletId));
  return { done: true };
};

/**
 * A Bitcoin wallet's address gap against the warning threshold (src/wallets/address-gap.ts):
 * emits wallet.gap_warning on crossing it, clears the mark once back below. Armed by the allocator
 * after it hands out an address (dedupe key gap_check:<wallet>, re-armed once done), because only
 * allocation widens the gap; see armGapCheck in src/wallets/allocator.ts.
 */
const gapCheck: JobHandler = async (tally, payload) => {
  const walletId = str(payload.walletId);
  const outcome = await checkWalletGap(tally, walletId);
  if (outcome !== 'unchanged') tally.log.info({ wallet: walletId, outcome }, 'wallet address gap');
  return { done: true };
};

export const JOB_HANDLERS: Record<string, JobHandler> = {
  'invoice.expire': expireInvoice,
  'invoice.window_close': closeWindow,
  'wallet.top_up': topUp,
  'wallet.gap_check': gapCheck,
  // Reconciliation and settlement cutoffs (src/jobs/money-jobs.ts).
  ...MONEY_JOB_HANDLERS,
  // An invoice's finished one-shot jobs are deleted after a week (src/jobs/prune-jobs.ts).
  ...PRUNE_JOB_HANDLERS,
};
