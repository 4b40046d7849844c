import type { Transaction } from 'kysely';
import type { Schema } from '../db/schema.ts';
import { loadRefund, serializeRefund } from '../refunds/refund-rows.ts';
import type { EventSubjects } from './effect-rows.ts';
import type { Fact } from './facts.ts';

/**
 * Reads, in the fact's transaction, what its events carry beside the invoice: for a refund fact the
 * refund itself (`data.refund`), in the refunds API's shape. Its callers change the refund row
 * before applying the fact (src/settlement/book-movement.ts, src/refunds/revert-refund.ts), so the
 * event shows the refund after the change, like the invoice. A refund fact naming no refund of the
 * merchant fails the transaction (not_found): the event must never go out without it.
 */
export async function eventSubjects(
  trx: Transaction<Schema>,
  merchantId: string,
  fact: Fact,
): Promise<EventSubjects> {
  if (fact.kind !== 'refund_completed' && fact.kind !== 'refund_reverted') return {};
  return { refund: serializeRefund(await loadRefund(trx, merchantId, fact.refundId)) };
}
