import type { Kysely } from 'kysely';
import { unitsFromDb } from '../core/money.ts';
import type { Schema } from '../db/schema.ts';
import '../db/schema-money.ts';
import type { SpendableOutput } from './bitcoin-psbt.ts';

/**
 * Confirmed outputs at invoice addresses that no recorded movement has spent yet: the coins a
 * refund or a sweep can use. Credited or not — a duplicate payment sits at the same address and is
 * the merchant's to return or keep. `optionIds` narrows to given invoices' options.
 */
export async function spendableOutputs(
  db: Kysely<Schema>,
  merchantId: string,
  network: string,
  optionIds?: string[],
): Promise<
  Array<SpendableOutput & { invoiceId: string; paymentId: string; optionId: string; walletId: string }>
> {
  let q = db
    .selectFrom('payments')
    .innerJoin('payment_options', 'payment_options.id', 'payments.option_id')
    .select([
      'payments.id',
      'payments.invoice_id',
      'payments.option_id',
      'payments.txid',
      'payments.output_index',
      'payments.amount',
      'payment_options.derivation_index',
      'payment_options.wallet_id',
    ])
    .where('payments.merchant_id', '=', merchantId)
    .where('payments.network', '=', network)
    .where('payments.removed', '=', 0)
    .where('payments.block_height', 'is not', null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('settlement_movement_inputs')
            .select('payment_id')
            .whereRef('settlement_movement_inputs.payment_id', '=', 'payments.id'),
        ),
      ),
    )
    .orderBy('payments.id');
  if (optionIds) q = q.where('payments.option_id', 'in', optionIds);
  const rows = await q.execute();
  return rows.map((r) => ({
    txid: r.txid,
    vout: r.output_index,
    amount: unitsFromDb(r.amount),
    index: r.derivation_index,
    invoiceId: r.invoice_id,
    paymentId: r.id,
    optionId: r.option_id,
    walletId: r.wallet_id,
  }));
}
