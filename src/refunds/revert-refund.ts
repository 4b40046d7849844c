import type { Transaction } from 'kysely';
import type { Tally } from '../context.ts';
import { unitsFromDb } from '../core/money.ts';
import type { Schema } from '../db/schema.ts';
import '../db/schema-money.ts';
import { iso } from '../db/values.ts';
import { applyFactInTransaction } from '../invoices/apply-fact.ts';
import type { InvoiceStatus } from '../invoices/types.ts';

/** A reversed movement that had paid a refund (its `refunded` is what the invoice side booked). */
export interface ReversedRefundMovement {
  id: string;
  merchant_id: string;
  refund_id: string | null;
  refunded: string;
}

/**
 * A completed refund whose movement a reorg reversed goes back to `approved` — the state support
 * and finance already know as "approved, not yet seen on chain" — when no live movement still
 * pays it. Not a new status: the merchant's signed transaction usually returns to the mempool and
 * is mined again, and then the refund completes again through the same path (bookMovement), so
 * "awaiting the chain" is exactly the truth; the txid stays on the row so support can follow it.
 * The invoice follows through the state machine's `refund_reverted` (refunded amount and status
 * back, the `refund.reverted` event, the books through the invoice position), all in the
 * watcher's roll-back transaction.
 *
 * If the state machine refuses (it should not: the refund was applied to this invoice), the
 * refund is left completed and an error logged rather than failing the roll-back: a watcher
 * stuck on one refund would stop every invoice; reconciliation still flags the orphaned movement.
 */
export async function revertRefundOfMovement(
  tally: Tally,
  trx: Transaction<Schema>,
  movement: ReversedRefundMovement,
): Promise<boolean> {
  if (!movement.refund_id) return false;
  const stillPaid = await trx
    .selectFrom('settlement_movements')
    .select('id')
    .where('refund_id', '=', movement.refund_id)
    .where('removed', '=', 0)
    .where('id', '!=', movement.id)
    .executeTakeFirst();
  if (stillPaid) return false;
  const refund = await trx
    .selectFrom('refunds')
    .select(['id', 'invoice_id', 'status', 'completed_at', 'updated_at'])
    .where('id', '=', movement.refund_id)
    .executeTakeFirst();
  if (refund?.status !== 'completed') return false;
  // The refund goes back first, so the `refund.reverted` event (built from its row in this
  // transaction) shows it `approved`, as it now stands; refund before invoice is also the order
  // bookMovement takes the two rows in.
  const now = tally.clock.now();
  await trx
    .updateTable('refunds')
    .set({ status: 'approved', completed_at: null, updated_at: iso(now) })
    .where('id', '=', refund.id)
    .where('status', '=', 'completed')
    .execute();
  const amount = unitsFromDb(movement.refunded);
  const outcome = await applyFactInTransaction(tally, trx, movement.merchant_id, refund.invoice_id, {
    kind: 'refund_reverted',
    id: `refund_reverted:${refund.id}:${movement.id}`,
    refundId: refund.id,
    amount,
    refundedFrom: await refundedFrom(trx, refund.invoice_id),
    actor: { kind: 'system', id: refund.id },
  });
  if (outcome.rejected) {
    // The invoice keeps the refund, so the refund stays completed as it was.
    await trx
      .updateTable('refunds')
      .set({ status: 'completed', completed_at: refund.completed_at, updated_at: refund.updated_at })
      .where('id', '=', refund.id)
      .execute();
    tally.log.error(
      { refund: refund.id, movement: movement.id, why: outcome.rejected },
      'reorg: refund movement reversed but the invoice refused the revert; refund left completed',
    );
    return false;
  }
  tally.log.warn({ refund: refund.id, movement: movement.id }, 'reorg: refund back to approved');
  return true;
}

/**
 * The status the invoice's first refund left, from its transitions — the same reading
 * `ledger verify` and `ledger backfill` use to tell whether revenue had been recognised.
 */
async function refundedFrom(trx: Transaction<Schema>, invoiceId: string): Promise<InvoiceStatus> {
  const first = await trx
    .selectFrom('transitions')
    .select('from_status')
    .where('invoice_id', '=', invoiceId)
    .where('cause_kind', '=', 'refund_completed')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return (first?.from_status as InvoiceStatus | undefined) ?? 'paid';
}
