import { newId } from '../../src/core/ids.ts';
import { applyFact } from '../../src/invoices/apply-fact.ts';
import type { Harness } from './harness.ts';

/**
 * Tells the state machine that a payment to one of an invoice's options was seen, as a chain
 * watcher would: by default the option's amount due, one block deep. For tests about what follows
 * a payment (pages, refunds, exports) without a node.
 */
export async function recordPayment(
  h: Harness,
  invoiceId: string,
  option: { id: string; amount_due_base_units: string },
  payment: { amount?: bigint; txid?: string; confirmations?: number; factId?: string } = {},
) {
  const confirmations = payment.confirmations ?? 1;
  return applyFact(h.tally, h.merchantId, invoiceId, {
    kind: 'payment_seen',
    id: payment.factId ?? `seen:${invoiceId}:${payment.txid ?? 'ab'}`,
    payment: {
      paymentId: newId('pay'),
      optionId: option.id,
      txid: payment.txid ?? 'ab'.repeat(32),
      outputIndex: 0,
      amount: payment.amount ?? BigInt(option.amount_due_base_units),
      rbf: false,
      confirmations,
      blockHash: confirmations > 0 ? 'cd'.repeat(32) : null,
      blockHeight: confirmations > 0 ? 101 : null,
    },
  });
}
