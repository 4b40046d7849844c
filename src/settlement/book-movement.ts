import type { Transaction } from 'kysely';
import type { Tally } from '../context.ts';
import { newId } from '../core/ids.ts';
import type { Schema } from '../db/schema.ts';
import '../db/schema-money.ts';
import { iso } from '../db/values.ts';
import { applyFactInTransaction } from '../invoices/apply-fact.ts';
import { ACCOUNTS } from '../ledger/accounts.ts';
import { insertTransaction } from '../ledger/book.ts';
import { fiatSources, movementFiatValue } from '../ledger/movement-fiat.ts';

export interface MovementBlock {
  hash: string;
  height: number;
  seenAt: Date;
}

/** A refund paid by the movement: what the invoice owes back and what reached the customer. */
export interface MovementRefund {
  id: string;
  invoiceId: string;
  owed: bigint;
  output: bigint;
  /**
   * Already completed: the transaction was booked before and that movement was reversed by a
   * reorg without the refund being reverted (src/refunds/revert-refund.ts normally puts it back to
   * `approved`), and now it is mined again. The books take the movement again; the invoice's
   * `refund_completed` is not applied a second time.
   */
  completed: boolean;
  /**
   * A full native-coin EVM refund: the built transaction sends the owed amount minus its whole gas
   * allowance, so the refund pays its own gas and the invoice refunded everything it owed. What
   * the network did not burn of the allowance stays at the address as the merchant's.
   */
  paysOwnGas?: boolean;
}

/**
 * One movement out of invoice addresses, whatever the chain. Bitcoin (`record-movement.ts`), the
 * EVM watcher (`record-evm-movement.ts`) and the EVM refund job (`evm-refund-watch.ts`) work out
 * what left and which refund it paid; this books it the same way for all three.
 */
export interface MovementRecord {
  merchantId: string;
  network: string;
  asset: string;
  txid: string;
  /** -1: the transaction itself (Bitcoin, EVM native coin); an ERC-20 movement: its Transfer log. */
  logIndex: number;
  block: MovementBlock;
  /** Everything that left invoice addresses in `asset`, fee included. */
  value: bigint;
  /** The network fee within `value` (0 when not ours to know, or paid in another asset). */
  fee: bigint;
  refund: MovementRefund | null;
  /** JSON-able description of where the money went (stored as is). */
  outputs: unknown[];
  /** The payments whose money left (Bitcoin: the spent outpoints; EVM: see evm-movement-inputs.ts). */
  inputs: Array<{ outpoint: string; invoiceId: string; paymentId: string; amount: string }>;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

/**
 * Books a movement once per live (network, txid, log_index, merchant) — a second sighting changes
 * nothing, and returns null. In the caller's transaction: the `settlement_movements` row and its
 * inputs, one balanced ledger transaction (invoice addresses credited with `value`; refund in
 * transit, the merchant's part of the fee and the rest as swept debited), and a refund it pays
 * completes through `refund_completed` on the invoice's transition, so status, the
 * `refund.completed` event and the books move together. A full refund pays the fee out of the
 * refund (the customer bears it; the invoice still refunded what it owed).
 */
export async function bookMovement(
  tally: Tally,
  trx: Transaction<Schema>,
  m: MovementRecord,
): Promise<string | null> {
  const exists = await trx
    .selectFrom('settlement_movements')
    .select('id')
    .where('network', '=', m.network)
    .where('txid', '=', m.txid)
    .where('log_index', '=', m.logIndex)
    .where('merchant_id', '=', m.merchantId)
    .where('removed', '=', 0)
    .executeTakeFirst();
  if (exists) return null;
  const now = tally.clock.now();
  const { refund } = m;
  if (refund && !refund.completed) {
    // Guarded on the status: two bookers racing for one refund complete it once. Before the
    // invoice's fact, so its `refund.completed` event shows the refund completed.
    const changed = await trx
      .updateTable('refunds')
      .set({
        status: 'completed',
        txid: m.txid,
        fee: m.fee.toString(),
        completed_at: iso(now),
        updated_at: iso(now),
      })
      .where('id', '=', refund.id)
      .where('status', '=', 'approved')
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) !== 1) return null;
  }
  let refunded = 0n;
  let feeInRefund = 0n;
  let unusedGas = 0n;
  if (refund) {
    feeInRefund = refund.owed > refund.output ? min(refund.owed - refund.output, m.fee) : 0n;
    refunded = min(min(refund.output + feeInRefund, refund.owed), m.value);
    // The gas allowance it reserved but did not burn never left the address: the refund still
    // owed it to nobody (the customer agreed to the full refund minus its gas), so it is the
    // merchant's, and the invoice is refunded in full (as a Bitcoin full refund paying its fee).
    if (refund.paysOwnGas && refunded < refund.owed) {
      unusedGas = refund.owed - refunded;
      refunded = refund.owed;
    }
  }
  const merchantFee = m.fee - feeInRefund;
  const swept = m.value + unusedGas - refunded - merchantFee;
  const movementId = newId('mov');
  await trx
    .insertInto('settlement_movements')
    .values({
      id: movementId,
      merchant_id: m.merchantId,
      network: m.network,
      asset: m.asset,
      txid: m.txid,
      log_index: m.logIndex,
      block_hash: m.block.hash,
      block_height: m.block.height,
      inputs_value: m.value.toString(),
      refunded: refunded.toString(),
      swept: swept.toString(),
      fee: m.fee.toString(),
      outputs: JSON.stringify(m.outputs),
      refund_id: refund?.id ?? null,
      batch_id: null,
      seen_at: iso(m.block.seenAt),
      removed: 0,
      removed_at: null,
    })
    .execute();
  if (m.inputs.length > 0)
    await trx
      .insertInto('settlement_movement_inputs')
      .values(
        m.inputs.map((r) => ({
          movement_id: movementId,
          outpoint: r.outpoint,
          invoice_id: r.invoiceId,
          payment_id: r.paymentId,
          amount: r.amount,
        })),
      )
      .execute();
  // Each entry's fiat value at the locked rates of the invoices the movement drew on (fees
  // included: docs/decisions/0011 §15), like the invoice's own entries.
  const sources = await fiatSources(trx, m.inputs);
  const on = { asset: m.asset, network: m.network };
  const entry = (account: string, amount: bigint) => {
    const fiat = movementFiatValue(amount, sources);
    return { account, amount, ...on, fiatCurrency: fiat?.currency ?? null, fiatValue: fiat?.value ?? null };
  };
  await insertTransaction(trx, {
    merchantId: m.merchantId,
    invoiceId: null,
    movementId,
    kind: 'movement',
    cause: m.txid,
    entries: [
      entry(ACCOUNTS.invoiceAddresses, -m.value),
      entry(ACCOUNTS.refundsInTransit, refunded),
      entry(ACCOUNTS.unusedRefundGas, -unusedGas),
      entry(ACCOUNTS.networkFees, merchantFee),
      entry(ACCOUNTS.swept, swept),
    ].filter((e) => e.amount !== 0n),
    now,
  });
  if (refund && !refund.completed) {
    // A refund reverted by a reorg and now paid again completes again: a new fact id, or storage
    // would skip it as already applied.
    const reverted = await trx
      .selectFrom('settlement_movements')
      .select('id')
      .where('refund_id', '=', refund.id)
      .where('removed', '=', 1)
      .executeTakeFirst();
    const outcome = await applyFactInTransaction(tally, trx, m.merchantId, refund.invoiceId, {
      kind: 'refund_completed',
      id: reverted ? `refund:${refund.id}:${movementId}` : `refund:${refund.id}`,
      refundId: refund.id,
      amount: refunded,
      actor: { kind: 'system', id: refund.id },
    });
    // A refund the state machine refuses would leave the books unbalanced between the two sides:
    // fail the whole transaction so the caller retries and the operator sees the error.
    if (outcome.rejected) throw new Error(`refund ${refund.id} could not be booked: ${outcome.rejected}`);
  }
  return movementId;
}
