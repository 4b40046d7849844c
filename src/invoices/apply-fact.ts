import type { Transaction } from 'kysely';
import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';
import type { Schema } from '../db/schema.ts';
import type { Fact } from './facts.ts';
import { ConcurrentUpdateError, loadInvoice, persistTransition } from './invoice-store.ts';
import type { InvoiceRecord } from './record.ts';
import { transition } from './transition.ts';

export interface ApplyOutcome {
  invoice: InvoiceRecord;
  /** False when the fact was already applied or did not apply (see `rejected`). */
  changed: boolean;
  rejected: string | null;
  duplicate: boolean;
}

/**
 * Applies one fact to one invoice inside the caller's transaction: skips facts already applied
 * (replay-safe), runs the pure transition, and persists the result with its outbox events.
 */
export async function applyFactInTransaction(
  tally: Tally,
  trx: Transaction<Schema>,
  merchantId: string,
  invoiceId: string,
  fact: Fact,
): Promise<ApplyOutcome> {
  const invoice = await loadInvoice(trx, tally.database.dialect, merchantId, invoiceId, true);
  if (!invoice) throw new TallyError('not_found', `No invoice ${invoiceId}.`);
  const seen = await trx
    .selectFrom('applied_facts')
    .select('fact_id')
    .where('invoice_id', '=', invoiceId)
    .where('fact_id', '=', fact.id)
    .executeTakeFirst();
  if (seen) return { invoice, changed: false, rejected: null, duplicate: true };
  const now = tally.clock.now();
  const result = transition(invoice, fact, now);
  if (result.rejected) return { invoice, changed: false, rejected: result.rejected, duplicate: false };
  const after = await persistTransition(trx, tally.database.dialect, invoice, result, fact, now);
  return { invoice: after, changed: true, rejected: null, duplicate: false };
}

/** Applies a fact in its own durable transaction, retrying if another process changed the invoice first. */
export async function applyFact(
  tally: Tally,
  merchantId: string,
  invoiceId: string,
  fact: Fact,
): Promise<ApplyOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await tally.database.write((trx) =>
        applyFactInTransaction(tally, trx, merchantId, invoiceId, fact),
      );
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || attempt >= 5) throw error;
    }
  }
}
