import { isSettled, totals } from './settlement-math.ts';
import type { Invoice, InvoiceStatus } from './types.ts';

/**
 * The status an invoice's credited payments and the clock call for (BTCPay's lesson: listeners only
 * record payments, one function derives state). Frozen statuses are handled by the caller.
 */
export function deriveStatus(invoice: Invoice, now: Date): InvoiceStatus {
  const t = totals(invoice);
  const expired = now.getTime() >= invoice.expiresAt.getTime();

  if (t.option && t.settled > 0n && t.settled >= t.minimum) {
    // Value that only completed the invoice after expiry is late, never silently paid.
    const needsLate = completedOnlyByLatePayments(invoice);
    if (needsLate) return 'late_paid';
    return t.settled > t.maximum ? 'overpaid' : 'paid';
  }
  if (invoice.manuallyPaid) return 'paid';
  if (t.seen === 0n || !t.option) return expired ? 'expired' : 'awaiting_payment';

  const option = t.option;
  const onTime = t.credited.filter((p) => p.timing === 'on_time');
  if (onTime.length === 0 && expired) return 'expired'; // only late money in flight: the exception says so
  const allSettled = t.credited.every((p) => isSettled(p, option));
  if (allSettled) return 'underpaid';
  return t.credited.some((p) => p.confirmations > 0) ? 'confirming' : 'detected';
}

function completedOnlyByLatePayments(invoice: Invoice): boolean {
  const t = totals(invoice);
  if (!t.option) return false;
  const option = t.option;
  let onTimeSettled = 0n;
  for (const p of t.credited) {
    if (p.timing === 'on_time' && isSettled(p, option)) onTimeSettled += p.amount;
  }
  return onTimeSettled < t.minimum;
}
