import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';
import { unitsFromDb } from '../core/money.ts';
import { getNetwork } from '../core/registry.ts';
import { iso } from '../db/values.ts';
import { keyOriginOf } from '../wallets/key-origin.ts';
import { buildPsbt, changeAddress } from './bitcoin-psbt.ts';
import { loadRefund, serializeRefund } from './refund-rows.ts';
import { spendableOutputs } from './spendable.ts';

/** regtest and test networks have no fee market to estimate from; the caller may always override. */
export const DEFAULT_FEE_RATE = '2';

/**
 * Builds the unsigned transaction of an approved refund for the merchant's signer. Bitcoin: a
 * PSBT spending every unspent confirmed output of the invoice's address; the customer gets the
 * refund, the rest (minus the fee) returns to the wallet's change address /1/<index>. Only a full
 * refund pays the fee out of the refund output, when the address holds nothing else to pay it with.
 * Rebuilding (another fee rate) replaces the stored one; nothing is broadcast by Tally.
 */
export async function buildRefundTransaction(
  tally: Tally,
  merchantId: string,
  refundId: string,
  input: { fee_rate?: string | undefined },
) {
  const refund = await loadRefund(tally.database.db, merchantId, refundId);
  if (refund.status !== 'approved')
    throw new TallyError(
      'invalid_state',
      `The refund is ${refund.status}; only an approved refund gets a transaction.`,
    );
  if (!refund.destination) throw new TallyError('invalid_state', 'The refund has no destination yet.');
  if (getNetwork(refund.network).family !== 'bitcoin') {
    const { buildEvmRefund } = await import('./evm-refund.ts');
    return buildEvmRefund(tally, refund);
  }
  const option = await tally.database.db
    .selectFrom('payment_options')
    .innerJoin('wallets', 'wallets.id', 'payment_options.wallet_id')
    .select([
      'wallets.xpub',
      'wallets.script_type',
      'wallets.master_fingerprint',
      'wallets.account_path',
      'payment_options.derivation_index',
    ])
    .where('payment_options.id', '=', refund.option_id)
    .executeTakeFirstOrThrow();
  const wallet = { xpub: option.xpub, scriptType: option.script_type, origin: keyOriginOf(option) };
  const inputs = await spendableOutputs(tally.database.db, merchantId, refund.network, [refund.option_id]);
  const feeRate = input.fee_rate ?? DEFAULT_FEE_RATE;
  const built = buildPsbt({
    networkId: refund.network,
    wallet,
    inputs,
    pay: [{ address: refund.destination, amount: unitsFromDb(refund.amount), role: 'refund' }],
    remainderTo: {
      address: changeAddress(wallet, option.derivation_index, refund.network),
      amount: 0n,
      role: 'change',
    },
    feeRate,
    // A full refund sends back everything: the customer agreed to "everything minus the network
    // fee", and there is nothing else at the address to pay it. A partial or excess refund names
    // the amount the customer gets; shortening it by the fee would silently pay the merchant's fee
    // with the customer's money, so when the address cannot cover amount + fee it is refused
    // instead (refund less, or in full) — as the README promises.
    deductFeeFrom: refund.kind === 'full' ? 0 : undefined,
  });
  const sendAmount = built.outputs.find((o) => o.role === 'refund')?.amount ?? 0n;
  const unsigned = {
    format: 'psbt',
    psbt: built.psbt,
    txid: built.txid,
    vsize: built.vsize,
    fee_rate: feeRate,
    fee: built.fee.toString(),
    inputs: built.inputs.map((i) => ({ outpoint: i.outpoint, amount: i.amount.toString() })),
    outputs: built.outputs.map((o) => ({ address: o.address, amount: o.amount.toString(), role: o.role })),
  };
  await tally.database.write((trx) =>
    trx
      .updateTable('refunds')
      .set({
        unsigned_tx: JSON.stringify(unsigned),
        fee_estimate: built.fee.toString(),
        send_amount: sendAmount.toString(),
        updated_at: iso(tally.clock.now()),
      })
      .where('id', '=', refundId)
      .where('status', '=', 'approved')
      .execute(),
  );
  return serializeRefund(await loadRefund(tally.database.db, merchantId, refundId));
}
