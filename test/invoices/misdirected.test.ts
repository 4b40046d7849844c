import { describe, expect, it } from 'vitest';
import type { Fact } from '../../src/invoices/facts.ts';
import { transition } from '../../src/invoices/transition.ts';
import {
  BEFORE_EXPIRY,
  buildInvoice,
  confirmations,
  DEFAULT_DUE,
  eventTypes,
  OPTION_B,
  observed,
  removed,
  uid,
} from './builders.ts';

/**
 * Money on the wrong network or in the wrong asset (EVM: the invoice's address exists on every
 * chain and for every token) is recorded and opens its own exception; no depth, no amount and no
 * later fact ever credits it.
 */
function misdirectedSeen(
  kind: 'wrong_network' | 'wrong_asset',
  amount = DEFAULT_DUE,
  depth = 100,
  received: { asset: string; decimals: number } = {
    asset: kind === 'wrong_network' ? 'USDC' : 'USDT',
    decimals: 6,
  },
): Extract<Fact, { kind: 'payment_seen' }> {
  const payment = observed({ optionId: OPTION_B, amount, confirmations: depth });
  payment.misdirected = {
    kind,
    network: kind === 'wrong_network' ? 'ethereum' : 'polygon',
    ...received,
    evidence: { chain_id: kind === 'wrong_network' ? 1 : 137, contract: '0xc0ffee', log_index: 4 },
  };
  return { kind: 'payment_seen', id: uid('fact_seen'), payment };
}

describe('misdirected payments in the state machine', () => {
  for (const kind of ['wrong_network', 'wrong_asset'] as const) {
    it(`${kind}: recorded uncredited with an exception carrying the evidence; status unchanged`, () => {
      const invoice = buildInvoice({ status: 'awaiting_payment', options: 2 });
      const result = transition(invoice, misdirectedSeen(kind), BEFORE_EXPIRY);
      expect(result.rejected).toBeNull();
      expect(result.invoice.status).toBe('awaiting_payment');
      expect(result.invoice.payments[0]).toMatchObject({ credited: false, received: { kind } });
      expect(result.invoice.selectedOptionId).toBeNull();
      expect(result.exceptions).toHaveLength(1);
      expect(result.exceptions[0]?.kind).toBe(kind);
      expect(result.exceptions[0]?.evidence).toMatchObject({
        log_index: 4,
        expected_asset: 'USDC',
        expected_network: 'polygon',
      });
      expect(eventTypes(result)).toEqual(['payment.detected', 'exception.opened']);
    });
  }

  it('states the amount in what really arrived: decimals of the received asset, beside base units', () => {
    const invoice = buildInvoice({ status: 'awaiting_payment', options: 2 });
    // The native coin (18 decimals) sent to a USDC option (6): 0.5 POL, not 500000000000 USDC.
    const fact = misdirectedSeen('wrong_asset', 500_000_000_000_000_000n, 100, {
      asset: 'POL',
      decimals: 18,
    });
    const result = transition(invoice, fact, BEFORE_EXPIRY);
    expect(result.exceptions[0]?.evidence).toMatchObject({
      amount: '0.5',
      amount_base_units: '500000000000000000',
      asset: 'POL',
      expected_asset: 'USDC',
    });
  });

  it('deeper confirmations, and a restore after removal, never credit it', () => {
    let invoice = buildInvoice({ status: 'awaiting_payment', options: 2 });
    const seen = misdirectedSeen('wrong_network', DEFAULT_DUE * 10n, 1);
    invoice = transition(invoice, seen, BEFORE_EXPIRY).invoice;
    const deeper = transition(invoice, confirmations(seen.payment.paymentId, 500), BEFORE_EXPIRY);
    // Its depth is not the option's to measure: never "confirmed" (decision 0021).
    expect(eventTypes(deeper)).not.toContain('payment.confirmed');
    invoice = deeper.invoice;
    expect(invoice.status).toBe('awaiting_payment');
    invoice = transition(
      invoice,
      removed(seen.payment.paymentId, undefined, 'dropped'),
      BEFORE_EXPIRY,
    ).invoice;
    const restored = transition(invoice, confirmations(seen.payment.paymentId, 3), BEFORE_EXPIRY);
    expect(restored.invoice.status).toBe('awaiting_payment');
    expect(restored.invoice.payments[0]?.credited).toBe(false);
    expect(restored.exceptions.map((e) => e.kind)).toEqual(['wrong_network']);
    expect(eventTypes(restored)).not.toContain('payment.confirmed');
  });
});
