import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, mergePolicy, requiredConfirmations } from '../../src/invoices/policy.ts';
import { isSettled } from '../../src/invoices/settlement-math.ts';
import type { Payment, PaymentOption } from '../../src/invoices/types.ts';

const tiers = mergePolicy(DEFAULT_POLICY, {
  confirmation_tiers: {
    bitcoin: [
      { max_value: '100', confirmations: 1 },
      { max_value: '1000', confirmations: 6 },
    ],
  },
});
const usd = (dollars: number) => BigInt(dollars) * 100n;

describe('confirmation policy', () => {
  it('picks the tier for the invoice value and says why', () => {
    expect(requiredConfirmations(tiers, 'bitcoin', usd(50), 'USD')).toMatchObject({
      requiredConfirmations: 1,
      reason: 'tier: value ≤ 100 USD',
    });
    expect(requiredConfirmations(tiers, 'bitcoin', usd(500), 'USD').requiredConfirmations).toBe(6);
  });

  it('never asks a larger invoice for fewer confirmations than a smaller one', () => {
    const above = requiredConfirmations(tiers, 'bitcoin', usd(5000), 'USD');
    expect(above.requiredConfirmations).toBe(6); // not the network default of 3
    expect(above.reason).toMatch(/above the highest tier/);
  });

  it('falls back to the network default when the price currency is not the policy currency', () => {
    const eur = requiredConfirmations(tiers, 'bitcoin', usd(50), 'EUR');
    expect(eur.requiredConfirmations).toBe(3);
    expect(eur.reason).toMatch(/not the policy's USD/);
  });

  it('allows zero-conf only at or under the threshold', () => {
    const policy = mergePolicy(DEFAULT_POLICY, { zero_conf_max_value: '20.00' });
    expect(requiredConfirmations(policy, 'bitcoin', usd(20), 'USD').zeroConfAllowed).toBe(true);
    expect(requiredConfirmations(policy, 'bitcoin', usd(21), 'USD').zeroConfAllowed).toBe(false);
  });
});

describe('settlement', () => {
  const option = (required: number, zeroConf: boolean): PaymentOption => ({
    id: 'opt',
    asset: 'BTC',
    network: 'bitcoin',
    address: 'bc1q',
    derivationIndex: 0,
    walletId: 'wal',
    amountDue: 1000n,
    decimals: 8,
    requiredConfirmations: required,
    zeroConfAllowed: zeroConf,
    confirmationReason: '',
    rate: null,
  });
  const payment = (confirmations: number, rbf: boolean): Payment => ({
    id: 'pay',
    optionId: 'opt',
    txid: 'tx',
    outputIndex: 0,
    amount: 1000n,
    confirmations,
    blockHash: null,
    blockHeight: null,
    rbf,
    seenAt: new Date(0),
    timing: 'on_time',
    credited: true,
    removed: false,
    removedReason: null,
  });

  it('never settles a mempool payment through a depth of 0; only the zero-conf rule, and never with RBF', () => {
    expect(isSettled(payment(0, true), option(0, false))).toBe(false);
    expect(isSettled(payment(0, false), option(0, false))).toBe(false);
    expect(isSettled(payment(0, false), option(2, true))).toBe(true);
    expect(isSettled(payment(0, true), option(2, true))).toBe(false);
    expect(isSettled(payment(1, true), option(2, true))).toBe(false);
    // Once settled at zero-conf, its first block must not un-settle it.
    expect(isSettled(payment(1, false), option(2, true))).toBe(true);
    expect(isSettled(payment(2, true), option(2, false))).toBe(true);
  });
});
