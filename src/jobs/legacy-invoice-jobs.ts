import { iso } from '../db/values.ts';
import type { ClockFact } from '../invoices/invoice-clock.ts';
import type { JobHandler } from './handlers.ts';

/**
 * `invoice.expire` and `invoice.window_close` jobs, one per invoice, were how the clock ran before
 * migration 0015 (src/invoices/invoice-clock.ts). A gateway of an earlier version sharing a
 * PostgreSQL database during a rolling upgrade still enqueues them, for invoices it created without
 * a clock. Such a job hands its invoice to the clock: if the invoice's clock is not running, it is
 * set to the job's fact, due now (the sweep runs a fact that is not yet due at its proper time, and
 * skips one already applied, so this is safe whatever state the invoice is in).
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

export const LEGACY_INVOICE_JOB_HANDLERS: Record<string, JobHandler> = {
  'invoice.expire': adoptLegacyJob('expiry_due'),
  'invoice.window_close': adoptLegacyJob('window_closed'),
};
