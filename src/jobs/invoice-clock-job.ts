import type { Tally } from '../context.ts';
import { iso } from '../db/values.ts';
import { type ClockFact, sweepInvoiceClocks } from '../invoices/invoice-clock.ts';
import type { JobHandler } from './handlers.ts';
import { rearmJob } from './job-store.ts';

/** How often the invoice clock sweep runs: an invoice expires at most this long after its time. */
export const CLOCK_EVERY_MS = 5_000;

/** After a sweep that failed as a whole (say, the database was unreachable), the next one waits this long. */
export const CLOCK_RETRY_MS = 30_000;

/**
 * The invoice clock sweep (src/invoices/invoice-clock.ts) as one recurring job, so that on
 * PostgreSQL one gateway process at a time runs it. It never fails as a job: a failed sweep is
 * logged and tried again, because a job that failed for good would stop every invoice's expiry
 * until the next restart. `options` (page sizes) are for tests.
 */
export function clockSweepJob(options: { page?: number; pages?: number } = {}): JobHandler {
  return async (tally) => {
    const now = tally.clock.now();
    try {
      const sweep = await sweepInvoiceClocks(tally, options);
      if (sweep.ticked > 0 || sweep.failed > 0) tally.log.info(sweep, 'invoice clocks ticked');
      // A sweep that stopped at its page limit having moved clocks on comes straight back.
      const again = sweep.more && sweep.ticked > 0 ? 0 : CLOCK_EVERY_MS;
      return { retryAt: new Date(now.getTime() + again) };
    } catch (error) {
      tally.log.error(
        { err: error instanceof Error ? error.message : String(error) },
        'invoice clock sweep failed',
      );
      return { retryAt: new Date(now.getTime() + CLOCK_RETRY_MS) };
    }
  };
}

/**
 * `invoice.expire` and `invoice.window_close` jobs, one per invoice, were how the clock ran before
 * migration 0015. A gateway of an earlier version sharing a PostgreSQL database during a rolling
 * upgrade still enqueues them, for invoices it created without a clock. Such a job hands its
 * invoice to the clock: if the invoice's clock is not running, it is set to the job's fact, due now
 * (the sweep runs a fact that is not yet due at its proper time, and skips one already applied).
 */
function adoptLegacyJob(fact: ClockFact): JobHandler {
  return async (tally, payload) => {
    const invoiceId = typeof payload.invoiceId === 'string' ? payload.invoiceId : '';
    const now = tally.clock.now();
    await tally.database.write((trx) =>
      trx
        .updateTable('invoices')
        .set({ clock_fact: fact, clock_at: iso(now) })
        .where('id', '=', invoiceId)
        .where('clock_at', 'is', null)
        .execute(),
    );
    return { done: true };
  };
}

export const CLOCK_JOB_HANDLERS: Record<string, JobHandler> = {
  'invoices.clock': clockSweepJob(),
  'invoice.expire': adoptLegacyJob('expiry_due'),
  'invoice.window_close': adoptLegacyJob('window_closed'),
};

/**
 * Arms the sweep (its dedupe key makes this idempotent across starts and processes), and re-arms
 * it should it ever have failed for good.
 */
export async function scheduleInvoiceClock(tally: Tally): Promise<void> {
  const now = tally.clock.now();
  await rearmJob(tally.database.db, {
    kind: 'invoices.clock',
    dedupeKey: 'invoices.clock',
    payload: {},
    runAt: now,
    now,
  });
}
