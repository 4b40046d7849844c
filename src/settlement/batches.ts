import type { Tally } from '../context.ts';
import { newId } from '../core/ids.ts';
import { unitsFromDb } from '../core/money.ts';
import '../db/schema-money.ts';
import { iso } from '../db/values.ts';

/**
 * Groups every outgoing movement seen before `cutoff` and not yet in a batch into one settlement
 * batch per merchant, with totals per asset and network. A movement is batched once (the update
 * is guarded on batch_id being null), so running the cutoff twice changes nothing.
 */
export async function closeSettlementBatches(
  tally: Tally,
  cutoff: Date,
): Promise<Array<{ id: string; merchant_id: string; movements: number }>> {
  const pending = await tally.database.db
    .selectFrom('settlement_movements')
    .select(['id', 'merchant_id', 'asset', 'network', 'inputs_value', 'refunded', 'swept', 'fee'])
    .where('batch_id', 'is', null)
    // A movement a reorg reversed moved nothing: it is never batched (migration 0011).
    .where('removed', '=', 0)
    .where('seen_at', '<', iso(cutoff) as never)
    .orderBy('id')
    .execute();
  const byMerchant = new Map<string, typeof pending>();
  for (const m of pending) byMerchant.set(m.merchant_id, [...(byMerchant.get(m.merchant_id) ?? []), m]);
  const out: Array<{ id: string; merchant_id: string; movements: number }> = [];
  for (const [merchantId, movements] of byMerchant) {
    const totals: Record<string, Record<string, bigint>> = {};
    for (const m of movements) {
      const key = `${m.asset}/${m.network}`;
      const t = totals[key] ?? { inputs: 0n, refunded: 0n, swept: 0n, fees: 0n };
      totals[key] = t;
      t.inputs = (t.inputs ?? 0n) + unitsFromDb(m.inputs_value);
      t.refunded = (t.refunded ?? 0n) + unitsFromDb(m.refunded);
      t.swept = (t.swept ?? 0n) + unitsFromDb(m.swept);
      t.fees = (t.fees ?? 0n) + unitsFromDb(m.fee);
    }
    const id = newId('stb');
    const now = tally.clock.now();
    const assigned = await tally.database.write(async (trx) => {
      const updated = await trx
        .updateTable('settlement_movements')
        .set({ batch_id: id })
        .where(
          'id',
          'in',
          movements.map((m) => m.id),
        )
        .where('batch_id', 'is', null)
        .where('removed', '=', 0)
        .executeTakeFirst();
      const n = Number(updated.numUpdatedRows);
      if (n === 0) return 0;
      await trx
        .insertInto('settlement_batches')
        .values({
          id,
          merchant_id: merchantId,
          cutoff_at: iso(cutoff),
          movements: n,
          totals: JSON.stringify(totals, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
          created_at: iso(now),
        })
        .execute();
      return n;
    });
    if (assigned > 0) out.push({ id, merchant_id: merchantId, movements: assigned });
  }
  return out;
}

/** The next UTC midnight after `now`: the default daily cutoff. */
export function nextMidnight(now: Date): Date {
  const d = new Date(now);
  d.setUTCHours(24, 0, 0, 0);
  return d;
}
