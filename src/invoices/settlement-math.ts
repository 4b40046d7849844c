import { basisPoints } from '../core/money.ts';
import type { Invoice, Payment, PaymentOption } from './types.ts';

/**
 * A payment counts as settled once it has at least one confirmation and the required depth, or
 * at zero confirmations only when the policy's zero-conf threshold allows it AND it cannot be
 * replaced (no RBF signal). A depth of 0 never means "accept the mempool": only the threshold does.
 */
export function isSettled(payment: Payment, option: PaymentOption): boolean {
  if (payment.removed) return false;
  if (payment.confirmations >= Math.max(1, option.requiredConfirmations)) return true;
  return option.zeroConfAllowed && !payment.rbf;
}

export interface Totals {
  option: PaymentOption | undefined;
  /** Credited value visible on chain or in the mempool. */
  seen: bigint;
  /** Credited value settled under the option's confirmation rule. */
  settled: bigint;
  /** Smallest settled value that completes the invoice (due minus the underpayment tolerance). */
  minimum: bigint;
  /** Largest settled value that is not an overpayment (due plus the overpayment tolerance). */
  maximum: bigint;
  credited: Payment[];
}

export function totals(invoice: Invoice): Totals {
  const option = invoice.options.find((o) => o.id === invoice.selectedOptionId);
  const credited = invoice.payments.filter((p) => p.credited && !p.removed);
  let seen = 0n;
  let settled = 0n;
  for (const payment of credited) {
    seen += payment.amount;
    if (option && isSettled(payment, option)) settled += payment.amount;
  }
  const due = option?.amountDue ?? 0n;
  return {
    option,
    seen,
    settled,
    minimum: due - basisPoints(due, invoice.policy.underpaymentToleranceBps),
    maximum: due + basisPoints(due, invoice.policy.overpaymentToleranceBps),
    credited,
  };
}
