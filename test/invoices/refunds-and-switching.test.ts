import { describe, expect, it } from 'vitest';
import { transition } from '../../src/invoices/transition.ts';
import { BEFORE_EXPIRY, buildInvoice, drive, OPTION_B, paymentSeen, refund, removed } from './builders.ts';

describe('refunds', () => {
  const paid = () => {
    const seen = paymentSeen({ amount: 100_000n, confirmations: 2, paymentId: 'pay_full' });
    return drive(buildInvoice({ amountDue: 100_000n }), [[seen, BEFORE_EXPIRY]]);
  };

  it('never books more refunded than received', () => {
    const result = transition(paid(), refund(100_001n), BEFORE_EXPIRY);
    expect(result.rejected).toBe('refund exceeds the amount received');
    expect(result.invoice.refundedAmount).toBe(0n);
    const partial = drive(paid(), [[refund(60_000n), BEFORE_EXPIRY]]);
    expect(transition(partial, refund(40_001n), BEFORE_EXPIRY).rejected).toBe(
      'refund exceeds the amount received',
    );
  });

  it('emits refund.completed for every refund, also a second partial one that changes no status', () => {
    const first = transition(paid(), refund(30_000n), BEFORE_EXPIRY);
    expect(first.invoice.status).toBe('partially_refunded');
    expect(first.events.map((e) => e.type)).toEqual(['refund.completed', 'invoice.partially_refunded']);
    const second = transition(first.invoice, refund(30_000n), BEFORE_EXPIRY);
    expect(second.invoice.status).toBe('partially_refunded');
    expect(second.transitions).toEqual([]);
    expect(second.events.map((e) => e.type)).toEqual(['refund.completed']);
    expect(second.invoice.refundedAmount).toBe(60_000n);
  });
});

describe('switching options after a payment disappears', () => {
  it('credits a payment to another option once the first option has no credited money left', () => {
    const invoice = buildInvoice({ options: 2, amountDue: 100_000n });
    const first = paymentSeen({ amount: 100_000n, paymentId: 'pay_a' });
    const dropped = drive(invoice, [
      [first, BEFORE_EXPIRY],
      [removed('pay_a', undefined, 'dropped'), BEFORE_EXPIRY],
    ]);
    expect(dropped.selectedOptionId).toBeNull();
    const other = paymentSeen({ amount: 100_000n, optionId: OPTION_B, paymentId: 'pay_b', confirmations: 2 });
    const result = transition(dropped, other, BEFORE_EXPIRY);
    expect(result.exceptions).toEqual([]);
    expect(result.invoice.selectedOptionId).toBe(OPTION_B);
    expect(result.invoice.status).toBe('paid');
  });
});
