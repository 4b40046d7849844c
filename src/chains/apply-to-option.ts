import type { Transaction } from 'kysely';
import type { Tally } from '../context.ts';
import type { Schema } from '../db/schema.ts';
import { applyFactInTransaction } from '../invoices/apply-fact.ts';
import type { Fact } from '../invoices/facts.ts';

/**
 * Applies a chain fact to the invoice of the payment option a watched address belongs to, inside
 * the watcher's transaction. A fact the state machine rejects (already applied, no change) is
 * logged at debug level: chain observations repeat, and that is not an error.
 */
export async function applyToOption(
  tally: Tally,
  trx: Transaction<Schema>,
  optionId: string,
  fact: Fact,
): Promise<void> {
  const option = await trx
    .selectFrom('payment_options')
    .select(['invoice_id', 'merchant_id'])
    .where('id', '=', optionId)
    .executeTakeFirst();
  if (!option) throw new Error(`watched option ${optionId} has no row`);
  const outcome = await applyFactInTransaction(tally, trx, option.merchant_id, option.invoice_id, fact);
  if (outcome.rejected) {
    tally.log.debug(
      { invoiceId: option.invoice_id, fact: fact.kind, why: outcome.rejected },
      'chain fact not applied',
    );
  }
}
