import type { Transaction } from 'kysely';
import { scriptForAddress } from '../chains/bitcoin/address-script.ts';
import type { BitcoinTx } from '../chains/bitcoin/raw-transaction.ts';
import type { Tally } from '../context.ts';
import { newId } from '../core/ids.ts';
import { unitsFromDb } from '../core/money.ts';
import type { Schema } from '../db/schema.ts';
import '../db/schema-money.ts';
import { iso } from '../db/values.ts';
import { applyFactInTransaction } from '../invoices/apply-fact.ts';
import { ACCOUNTS } from '../ledger/accounts.ts';
import { insertTransaction } from '../ledger/book.ts';

export interface MovementBlock {
  hash: string;
  height: number;
  seenAt: Date;
}

/**
 * Money leaving invoice addresses (docs/decisions/0011): a confirmed transaction spending outputs
 * Tally recorded as payments. It is the merchant's own doing — a sweep, or a refund they signed.
 * Recorded once per merchant as a movement with its inputs, booked (invoice addresses credited;
 * refund, fee and swept debited), and if an output pays an approved refund's destination, that
 * refund completes: `refund_completed` goes through the invoice's transition in this same
 * transaction, so the status, the `refund.completed` event and the books move together.
 */
export async function recordMovement(
  tally: Tally,
  trx: Transaction<Schema>,
  network: string,
  tx: BitcoinTx,
  spent: readonly string[],
  block: MovementBlock,
): Promise<void> {
  const txids = [...new Set(spent.map((o) => o.slice(0, o.indexOf(':'))))];
  const rows = await trx
    .selectFrom('payments')
    .select(['id', 'invoice_id', 'merchant_id', 'asset', 'txid', 'output_index', 'amount'])
    .where('network', '=', network)
    .where('txid', 'in', txids)
    .where('removed', '=', 0)
    .execute();
  const wanted = new Set(spent);
  const inputs = rows.filter((r) => wanted.has(`${r.txid}:${r.output_index}`));
  const merchants = [...new Set(inputs.map((r) => r.merchant_id))];
  for (const merchantId of merchants) {
    const mine = inputs.filter((r) => r.merchant_id === merchantId);
    const exists = await trx
      .selectFrom('settlement_movements')
      .select('id')
      .where('network', '=', network)
      .where('txid', '=', tx.txid)
      .where('merchant_id', '=', merchantId)
      .executeTakeFirst();
    if (exists) continue;
    await recordForMerchant(
      tally,
      trx,
      network,
      tx,
      mine,
      merchantId,
      block,
      mine.length === tx.inputs.length,
    );
  }
}

type InputRow = {
  id: string;
  invoice_id: string;
  asset: string;
  txid: string;
  output_index: number;
  amount: string;
};

async function recordForMerchant(
  tally: Tally,
  trx: Transaction<Schema>,
  network: string,
  tx: BitcoinTx,
  inputs: InputRow[],
  merchantId: string,
  block: MovementBlock,
  allInputsOurs: boolean,
): Promise<void> {
  const value = inputs.reduce((s, r) => s + unitsFromDb(r.amount), 0n);
  const outputsTotal = tx.outputs.reduce((s, o) => s + o.value, 0n);
  // The fee is knowable only when every input is ours; otherwise someone else paid part of it.
  const fee = allInputsOurs ? value - outputsTotal : 0n;
  const refund = await matchRefund(trx, network, tx, [...new Set(inputs.map((r) => r.invoice_id))]);
  let refunded = 0n;
  let feeInRefund = 0n;
  if (refund) {
    // A full refund pays the fee out of the refund itself (the customer bears it): the invoice
    // refunded what it owed, the customer received that minus the fee.
    feeInRefund = refund.amount > refund.output ? min(refund.amount - refund.output, fee) : 0n;
    refunded = min(refund.output + feeInRefund, value);
  }
  const merchantFee = fee - feeInRefund;
  const swept = value - refunded - merchantFee;
  const movementId = newId('mov');
  const now = tally.clock.now();
  const asset = inputs[0]?.asset ?? 'BTC';
  await trx
    .insertInto('settlement_movements')
    .values({
      id: movementId,
      merchant_id: merchantId,
      network,
      asset,
      txid: tx.txid,
      block_hash: block.hash,
      block_height: block.height,
      inputs_value: value.toString(),
      refunded: refunded.toString(),
      swept: swept.toString(),
      fee: fee.toString(),
      outputs: JSON.stringify(
        tx.outputs.map((o, i) => ({
          vout: i,
          script: o.script,
          amount: o.value.toString(),
          role: refund && i === refund.vout ? 'refund' : 'merchant',
        })),
      ),
      refund_id: refund?.id ?? null,
      batch_id: null,
      seen_at: iso(block.seenAt),
    })
    .execute();
  await trx
    .insertInto('settlement_movement_inputs')
    .values(
      inputs.map((r) => ({
        movement_id: movementId,
        outpoint: `${r.txid}:${r.output_index}`,
        invoice_id: r.invoice_id,
        payment_id: r.id,
        amount: r.amount,
      })),
    )
    .execute();
  const on = { asset, network, fiatCurrency: null, fiatValue: null };
  await insertTransaction(trx, {
    merchantId,
    invoiceId: null,
    movementId,
    kind: 'movement',
    cause: tx.txid,
    entries: [
      { account: ACCOUNTS.invoiceAddresses, amount: -value, ...on },
      { account: ACCOUNTS.refundsInTransit, amount: refunded, ...on },
      { account: ACCOUNTS.networkFees, amount: merchantFee, ...on },
      { account: ACCOUNTS.swept, amount: swept, ...on },
    ].filter((e) => e.amount !== 0n),
    now,
  });
  if (!refund) return;
  await trx
    .updateTable('refunds')
    .set({
      status: 'completed',
      txid: tx.txid,
      fee: fee.toString(),
      completed_at: iso(now),
      updated_at: iso(now),
    })
    .where('id', '=', refund.id)
    .execute();
  const outcome = await applyFactInTransaction(tally, trx, merchantId, refund.invoiceId, {
    kind: 'refund_completed',
    id: `refund:${refund.id}`,
    amount: refunded,
    actor: { kind: 'system', id: refund.id },
  });
  // A refund the state machine refuses would leave the books unbalanced between the two sides:
  // fail the block's transaction so the watcher retries and the operator sees the error.
  if (outcome.rejected) throw new Error(`refund ${refund.id} could not be booked: ${outcome.rejected}`);
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** An approved refund of one of the spent invoices whose destination this transaction pays. */
async function matchRefund(trx: Transaction<Schema>, network: string, tx: BitcoinTx, invoiceIds: string[]) {
  const refunds = await trx
    .selectFrom('refunds')
    .select(['id', 'invoice_id', 'destination', 'amount', 'send_amount'])
    .where('invoice_id', 'in', invoiceIds)
    .where('network', '=', network)
    .where('status', '=', 'approved')
    .orderBy('id')
    .execute();
  for (const r of refunds) {
    if (!r.destination) continue;
    const script = scriptForAddress(r.destination, network);
    const amount = unitsFromDb(r.amount);
    const floor = r.send_amount === null ? amount : unitsFromDb(r.send_amount);
    const vout = tx.outputs.findIndex((o) => o.script === script && o.value >= floor && o.value <= amount);
    const output = tx.outputs[vout];
    if (output) return { id: r.id, invoiceId: r.invoice_id, amount, output: output.value, vout };
  }
  return null;
}
