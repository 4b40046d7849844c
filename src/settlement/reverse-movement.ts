import type { Transaction } from 'kysely';
import type { Tally } from '../context.ts';
import type { Schema } from '../db/schema.ts';
import '../db/schema-money.ts';
import { unitsFromDb } from '../core/money.ts';
import { iso } from '../db/values.ts';
import type { Account } from '../ledger/accounts.ts';
import { insertTransaction } from '../ledger/book.ts';
import { revertRefundOfMovement } from '../refunds/revert-refund.ts';

/**
 * Movements booked in a block that left the best chain are reversed, in the watcher's roll-back
 * transaction: a `movement_reversal` ledger transaction posts the exact opposite of the movement's
 * booking (append-only: nothing is edited or deleted) and the movement is flagged removed, so it
 * leaves the unbatched set, the report and the live uniqueness. Its payments count as unspent
 * again; if the same transaction is mined again the watcher books it as a new movement.
 *
 * A refund the movement completed goes back to `approved` and its invoice un-refunds through
 * `refund_reverted` (src/refunds/revert-refund.ts), so status, refunded amount, the
 * `refund.reverted` event and the invoice's books move together; mined again, the refund
 * completes again. Reconciliation keeps a removed refund movement with no live successor in its
 * `reconciliation_movement_not_in_chain` check meanwhile, so a person can look.
 */
export async function reverseMovementsInBlock(
  tally: Tally,
  trx: Transaction<Schema>,
  network: string,
  blockHash: string,
): Promise<string[]> {
  const movements = await trx
    .selectFrom('settlement_movements')
    .select(['id', 'merchant_id', 'txid', 'refund_id', 'refunded'])
    .where('network', '=', network)
    .where('block_hash', '=', blockHash)
    .where('removed', '=', 0)
    .orderBy('id')
    .execute();
  const now = tally.clock.now();
  for (const m of movements) {
    const entries = await trx
      .selectFrom('ledger_entries')
      .innerJoin('ledger_transactions', 'ledger_transactions.id', 'ledger_entries.transaction_id')
      .select([
        'ledger_entries.account',
        'ledger_entries.asset',
        'ledger_entries.network',
        'ledger_entries.direction',
        'ledger_entries.amount',
        'ledger_entries.fiat_currency',
        'ledger_entries.fiat_value',
      ])
      .where('ledger_transactions.movement_id', '=', m.id)
      .where('ledger_transactions.kind', '=', 'movement')
      .orderBy('ledger_entries.id')
      .execute();
    if (entries.length > 0)
      await insertTransaction(trx, {
        merchantId: m.merchant_id,
        invoiceId: null,
        movementId: m.id,
        kind: 'movement_reversal',
        cause: `reorg:${blockHash}`,
        entries: entries.map((e) => {
          const signed = unitsFromDb(e.amount) * (e.direction === 'debit' ? 1n : -1n);
          return {
            account: e.account as Account,
            asset: e.asset,
            network: e.network,
            amount: -signed,
            // The opposite fiat value too, so the reversal cancels the booking in fiat as well.
            fiatCurrency: e.fiat_currency,
            fiatValue: negateDecimal(e.fiat_value),
          };
        }),
        now,
      });
    await trx
      .updateTable('settlement_movements')
      .set({ removed: 1, removed_at: iso(now) })
      .where('id', '=', m.id)
      .execute();
    await revertRefundOfMovement(tally, trx, m);
    tally.log.warn({ network, movement: m.id, txid: m.txid, block: blockHash }, 'reorg: movement reversed');
  }
  return movements.map((m) => m.id);
}

function negateDecimal(value: string | null): string | null {
  if (value === null || /^-?0(\.0*)?$/.test(value)) return value;
  return value.startsWith('-') ? value.slice(1) : `-${value}`;
}
