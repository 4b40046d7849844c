import type { Transaction } from 'kysely';
import { scriptForAddress } from '../chains/bitcoin/address-script.ts';
import type { BitcoinTx } from '../chains/bitcoin/raw-transaction.ts';
import type { Tally } from '../context.ts';
import { unitsFromDb } from '../core/money.ts';
import type { Schema } from '../db/schema.ts';
import '../db/schema-money.ts';
import { bookMovement, type MovementBlock, type MovementRefund } from './book-movement.ts';

export type { MovementBlock } from './book-movement.ts';

/**
 * Money leaving invoice addresses on Bitcoin (docs/decisions/0011): a confirmed transaction
 * spending outputs Tally recorded as payments. It is the merchant's own doing — a sweep, or a
 * refund they signed. What is Bitcoin-specific is worked out here — which payments it spent, per
 * merchant, the fee (knowable only when every input is ours), and the refund an output pays — and
 * `bookMovement` (shared with the EVM watcher and the EVM refund job) books it once.
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
  const outputsTotal = tx.outputs.reduce((s, o) => s + o.value, 0n);
  for (const merchantId of merchants) {
    const mine = inputs.filter((r) => r.merchant_id === merchantId);
    const value = mine.reduce((s, r) => s + unitsFromDb(r.amount), 0n);
    // The fee is knowable only when every input is ours; otherwise someone else paid part of it.
    const fee = mine.length === tx.inputs.length ? value - outputsTotal : 0n;
    const refund = await matchRefund(trx, network, tx, [...new Set(mine.map((r) => r.invoice_id))]);
    await bookMovement(tally, trx, {
      merchantId,
      network,
      asset: mine[0]?.asset ?? 'BTC',
      txid: tx.txid,
      logIndex: -1,
      block,
      value,
      fee,
      refund,
      outputs: tx.outputs.map((o, i) => ({
        vout: i,
        script: o.script,
        amount: o.value.toString(),
        role: refund && i === refund.vout ? 'refund' : 'merchant',
      })),
      inputs: mine.map((r) => ({
        outpoint: `${r.txid}:${r.output_index}`,
        invoiceId: r.invoice_id,
        paymentId: r.id,
        amount: r.amount,
      })),
    });
  }
}

/**
 * The refund of one of the spent invoices this transaction pays: an approved one whose destination
 * an output pays with between the amount the built transaction sends and the amount owed, or a
 * completed one whose transaction this is (mined again after a reorg reversed its movement).
 */
async function matchRefund(
  trx: Transaction<Schema>,
  network: string,
  tx: BitcoinTx,
  invoiceIds: string[],
): Promise<(MovementRefund & { vout: number }) | null> {
  const refunds = await trx
    .selectFrom('refunds')
    .select(['id', 'invoice_id', 'destination', 'amount', 'send_amount', 'status', 'txid'])
    .where('invoice_id', 'in', invoiceIds)
    .where('network', '=', network)
    .where((eb) =>
      eb.or([
        eb('status', '=', 'approved'),
        eb.and([eb('status', '=', 'completed'), eb('txid', '=', tx.txid)]),
      ]),
    )
    .orderBy('id')
    .execute();
  for (const r of refunds) {
    if (!r.destination) continue;
    const script = scriptForAddress(r.destination, network);
    const owed = unitsFromDb(r.amount);
    const floor = r.send_amount === null ? owed : unitsFromDb(r.send_amount);
    const vout = tx.outputs.findIndex((o) => o.script === script && o.value >= floor && o.value <= owed);
    const output = tx.outputs[vout];
    if (output)
      return {
        id: r.id,
        invoiceId: r.invoice_id,
        owed,
        output: output.value,
        vout,
        completed: r.status === 'completed',
      };
  }
  return null;
}
