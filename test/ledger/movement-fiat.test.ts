/**
 * The fiat value of a movement's amounts (fees above all) at the locked rates of the invoices it
 * drew on: split in proportion to the payments, each part at its own rate, summed; exact bigint.
 */
import { describe, expect, it } from 'vitest';
import { type FiatSource, movementFiatUnits, movementFiatValue } from '../../src/ledger/movement-fiat.ts';

const btc = (amount: bigint, rate: string | null, currency = 'USD'): FiatSource => ({
  amount,
  asset: 'BTC',
  decimals: 8,
  rate,
  currency,
});

describe('movementFiatUnits', () => {
  it('values a fee drawn on one invoice at its locked rate, half away from zero to the cent', () => {
    // 1,234 sat at 65,000 USD/BTC = 0.80210 USD → 0.80 (written as amounts are: trailing zeros cut).
    expect(movementFiatValue(1_234n, [btc(100_000n, '65000')])).toEqual({ currency: 'USD', value: '0.8' });
    // 1,500 sat at 50,000.50 = 0.7500075 → 0.75; 3,000 sat at 50,000 = 1.50; 1,010 sat = 0.505,
    // exactly half a cent, goes up (and down for a negative amount).
    expect(movementFiatUnits(1_500n, [btc(1n, '50000.50')])).toEqual({ currency: 'USD', units: 75n });
    expect(movementFiatUnits(3_000n, [btc(1n, '50000')])).toEqual({ currency: 'USD', units: 150n });
    expect(movementFiatUnits(1_010n, [btc(1n, '50000')])).toEqual({ currency: 'USD', units: 51n }); // 0.505 → 0.51
    expect(movementFiatUnits(-1_010n, [btc(1n, '50000')])).toEqual({ currency: 'USD', units: -51n });
  });

  it('splits over the payments in proportion, each part at its own rate, the remainder to the last', () => {
    // 10,000 sat over payments of 3:1 → 7,500 at 40,000 (3.00) + 2,500 at 80,000 (2.00) = 5.00.
    expect(movementFiatUnits(10_000n, [btc(300n, '40000'), btc(100n, '80000')])).toEqual({
      currency: 'USD',
      units: 500n,
    });
    // 1,001 sat over three equal payments: 333 + 333 + 335 (the remainder goes to the last).
    const parts = movementFiatUnits(1_001n, [btc(1n, '100000'), btc(1n, '100000'), btc(1n, '200000')]);
    // 333 sat at 100k = 0.333 → 0.33; twice; 335 at 200k = 0.67 → 0.67: 1.33.
    expect(parts).toEqual({ currency: 'USD', units: 133n });
  });

  it('is unknown without a rate, without payments, or across currencies', () => {
    expect(movementFiatUnits(1_000n, [])).toBeNull();
    expect(movementFiatUnits(1_000n, [btc(1n, null)])).toBeNull();
    expect(movementFiatUnits(1_000n, [btc(1n, '50000'), btc(1n, '45000', 'EUR')])).toBeNull();
  });

  it('an invoice priced in the asset itself values the fee as itself', () => {
    expect(movementFiatValue(1_234n, [btc(1n, null, 'BTC')])).toEqual({
      currency: 'BTC',
      value: '0.00001234',
    });
  });
});
