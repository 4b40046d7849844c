import type { Transaction } from 'kysely';
import type { EvmOutflow } from '../chains/evm/detect-outgoing.ts';
import type { Tally } from '../context.ts';
import { unitsFromDb } from '../core/money.ts';
import type { Schema } from '../db/schema.ts';
import '../db/schema-money.ts';
import { awaitsRefundJob } from '../refunds/evm-refund-match.ts';
import { bookMovement, type MovementBlock, type MovementRefund } from './book-movement.ts';
import { evmMovementInputs } from './evm-movement-inputs.ts';
import { forgetPendingOutflow, rememberPendingOutflow } from './pending-outflows.ts';

const same = (a: string | null, b: string | null) => (a ?? '').toLowerCase() === (b ?? '').toLowerCase();

/**
 * A transfer out of a watched EVM invoice address, mined in the block the watcher is writing:
 * booked as a movement through the shared `bookMovement`, once per (network, tx hash, log index).
 * `fee` is the gas the transaction paid when it is in the same asset (native coin); a token
 * transfer's gas is another asset, paid from outside the books, and not booked.
 *
 * Refunds: the transfer an approved refund awaits is left to the refund job, which completes it
 * once final (docs/decisions/0011 §5) — booking it here too would book it twice, or as a sweep —
 * and remembered as pending until a movement books it (§17: the job settles those its refund did
 * not take, through this same function, as sweeps). A
 * completed refund's own transaction seen again (mined again after a reorg reversed its
 * movement, or the job was first) is booked as that refund's movement, never completing it again;
 * while its live movement exists the shared idempotency key makes it a no-op.
 */
export async function recordEvmMovement(
  tally: Tally,
  trx: Transaction<Schema>,
  network: string,
  out: EvmOutflow,
  fee: bigint,
  block: MovementBlock,
): Promise<string | null> {
  const option = await trx
    .selectFrom('payment_options')
    .select(['merchant_id', 'invoice_id'])
    .where('id', '=', out.option.optionId)
    .executeTakeFirst();
  if (!option) return null;
  const native = out.asset.contract === null;
  if (out.reverted) return bookReverted(tally, trx, network, out, fee, block, option.merchant_id);
  const refunds = await trx
    .selectFrom('refunds')
    .select(['id', 'status', 'destination', 'amount', 'send_amount', 'unsigned_tx', 'txid'])
    .where('invoice_id', '=', option.invoice_id)
    .where('network', '=', network)
    .where('asset', '=', out.asset.code)
    .where('status', 'in', ['approved', 'completed'])
    .orderBy('id')
    .execute();
  // A completed refund that owns this transaction first: its transfer is booked (or is booked
  // again after a reorg) as that refund's. Asked after an approved refund that would also match it
  // (same amount, same destination), the transfer was remembered as pending for that one, though
  // the job had already booked it: a pending row that no refund would ever take.
  let refund: MovementRefund | null = null;
  const owner = refunds.find(
    (r) => r.status === 'completed' && same(r.txid, out.txid) && same(r.destination, out.to),
  );
  if (owner)
    refund = {
      id: owner.id,
      invoiceId: option.invoice_id,
      owed: unitsFromDb(owner.amount),
      output: out.amount,
      completed: true,
    };
  else if (
    refunds.some((r) =>
      awaitsRefundJob(r, { txid: out.txid, to: out.to, amount: out.amount, native }, block.height),
    )
  ) {
    // Remembered until a movement books it: the refund's, or a sweep's if the refund never
    // completes from it (settle-pending-outflows.ts).
    await rememberPendingOutflow(trx, network, out, fee, block, option.merchant_id, tally.clock.now());
    return null;
  }
  const value = out.amount + fee;
  await forgetPendingOutflow(trx, network, out.txid, out.index);
  return bookMovement(tally, trx, {
    merchantId: option.merchant_id,
    network,
    asset: out.asset.code,
    txid: out.txid,
    logIndex: out.index,
    block,
    value,
    fee,
    refund,
    outputs: [
      {
        to: out.to,
        amount: out.amount.toString(),
        role: refund ? 'refund' : 'merchant',
        log_index: out.index,
      },
    ],
    inputs: await evmMovementInputs(trx, network, out.option.optionId, out.asset.code, value),
  });
}

/**
 * A native transaction from the address that reverted: only its gas left, a merchant's network
 * fee (no refund was paid by it, whatever it was meant to be). Drawn on the address's payments
 * like any outflow.
 */
async function bookReverted(
  tally: Tally,
  trx: Transaction<Schema>,
  network: string,
  out: EvmOutflow,
  fee: bigint,
  block: MovementBlock,
  merchantId: string,
): Promise<string | null> {
  if (fee === 0n) return null;
  return bookMovement(tally, trx, {
    merchantId,
    network,
    asset: out.asset.code,
    txid: out.txid,
    logIndex: out.index,
    block,
    value: fee,
    fee,
    refund: null,
    outputs: [{ to: out.to, amount: '0', role: 'reverted', log_index: out.index }],
    inputs: await evmMovementInputs(trx, network, out.option.optionId, out.asset.code, fee),
  });
}
