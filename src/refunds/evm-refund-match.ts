import { unitsFromDb } from '../core/money.ts';

const same = (a: string | null, b: string | null) => (a ?? '').toLowerCase() === (b ?? '').toLowerCase();

/**
 * Whether a transfer out of an invoice address is the one an approved EVM refund is waiting for —
 * the test `checkEvmRefunds` (evm-refund-watch.ts) applies once the transfer is final: to the
 * refund's destination, between the amount the built transaction sends and the amount owed (the
 * Bitcoin matcher's rule: more than owed is not this refund — booked as the refund, the excess
 * would show as swept to the merchant though the customer got it), mined no earlier than the
 * block it was built at, and, for a native refund whose hash the merchant already reported, that
 * transaction. The EVM watcher asks this when it sees the transfer mined, and leaves a match to the
 * refund job instead of booking it as a sweep: a refund transfer is a refund, booked once, by one
 * booker (as on Bitcoin, where the output paying an approved refund's destination makes the
 * movement that refund's).
 */
export function awaitsRefundJob(
  refund: {
    status: string;
    destination: string | null;
    amount: string;
    send_amount: string | null;
    unsigned_tx: string | null;
    txid: string | null;
  },
  transfer: { txid: string; to: string; amount: bigint; native: boolean },
  blockHeight: number,
): boolean {
  if (refund.status !== 'approved' || refund.unsigned_tx === null || !same(refund.destination, transfer.to))
    return false;
  const built = JSON.parse(refund.unsigned_tx) as { from_block?: string };
  if (built.from_block === undefined || BigInt(built.from_block) > BigInt(blockHeight)) return false;
  if (!withinRefund(transfer.amount, refund)) return false;
  return !(transfer.native && refund.txid !== null && !same(refund.txid, transfer.txid));
}

/** Between what the built transaction sends and what the refund owes, both included. */
export function withinRefund(
  amount: bigint,
  refund: { amount: string; send_amount: string | null },
): boolean {
  return amount >= unitsFromDb(refund.send_amount ?? refund.amount) && amount <= unitsFromDb(refund.amount);
}
