import type { Tally } from '../context.ts';
import { checkWalletGap } from '../wallets/address-gap.ts';
import { topUpAddressPool } from '../wallets/address-pool.ts';
import { LEGACY_INVOICE_JOB_HANDLERS } from './legacy-invoice-jobs.ts';
import { MONEY_JOB_HANDLERS } from './money-jobs.ts';
import { PRUNE_JOB_HANDLERS } from './prune-jobs.ts';

export type JobHandler = (tally: Tally, payload: Record<string, unknown>) => Promise<JobResult>;
/** `retryAt` reschedules without counting as a failure (e.g. waiting for a chain watcher to catch up). */
export type JobResult = { done: true } | { retryAt: Date };

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

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
  // Per-invoice expiry jobs of an earlier version, handed to the invoice clock (legacy-invoice-jobs.ts).
  ...LEGACY_INVOICE_JOB_HANDLERS,
  'wallet.top_up': topUp,
  'wallet.gap_check': gapCheck,
  // Reconciliation and settlement cutoffs (src/jobs/money-jobs.ts).
  ...MONEY_JOB_HANDLERS,
  // An invoice's finished one-shot jobs are deleted after a week (src/jobs/prune-jobs.ts).
  ...PRUNE_JOB_HANDLERS,
};
