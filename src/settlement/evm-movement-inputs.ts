import type { Transaction } from 'kysely';
import { unitsFromDb } from '../core/money.ts';
import type { Schema } from '../db/schema.ts';
import '../db/schema-money.ts';

/**
 * The payments an EVM movement drew on. An EVM address is an account, not a set of coins, so
 * nothing on chain says which deposit left; Tally attributes outflows first-in first-out: the
 * address's payments in that asset on that network (credited or not, not removed) that no live
 * movement has drawn on yet, oldest first, until they cover the amount that left. That links a
 * sweep to the payments it swept, so the settlement report names its batch and transaction on
 * each payment row exactly as for a Bitcoin sweep.
 */
export async function evmMovementInputs(
  trx: Transaction<Schema>,
  network: string,
  optionId: string,
  asset: string,
  outflow: bigint,
): Promise<Array<{ outpoint: string; invoiceId: string; paymentId: string; amount: string }>> {
  const rows = await trx
    .selectFrom('payments')
    .select(['id', 'invoice_id', 'txid', 'output_index', 'amount'])
    .where('option_id', '=', optionId)
    .where('network', '=', network)
    .where('asset', '=', asset)
    .where('removed', '=', 0)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('settlement_movement_inputs as mi')
            .innerJoin('settlement_movements as m', 'm.id', 'mi.movement_id')
            .select('mi.payment_id')
            .whereRef('mi.payment_id', '=', 'payments.id')
            .where('m.removed', '=', 0),
        ),
      ),
    )
    .orderBy('seen_at')
    .orderBy('id')
    .execute();
  const out = [];
  let covered = 0n;
  for (const r of rows) {
    if (covered >= outflow) break;
    covered += unitsFromDb(r.amount);
    out.push({
      outpoint: `${r.txid}:${r.output_index}`,
      invoiceId: r.invoice_id,
      paymentId: r.id,
      amount: r.amount,
    });
  }
  return out;
}
