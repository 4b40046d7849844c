import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TallyError } from '../../src/core/errors.ts';
import { amountDue } from '../../src/rates/convert.ts';

describe('amountDue', () => {
  it('10.00 USD at 65000.12 USD/BTC is 15385 sats (10^13 / 650001200 = 15384.58…, rounded up)', () => {
    expect(amountDue(1000n, 2, '65000.12', 8)).toBe(15_385n);
  });

  it('is exact when the division is exact', () => {
    // 10 USD / 3200 USD per ETH = 0.003125 ETH
    expect(amountDue(1000n, 2, '3200', 18)).toBe(3_125_000_000_000_000n);
    // 25.50 USD at 1 USD per USDC = 25.5 USDC (6 decimals)
    expect(amountDue(2550n, 2, '1', 6)).toBe(25_500_000n);
    // 1.00 EUR at 0.25 EUR per POL = 4 POL
    expect(amountDue(100n, 2, '0.25', 18)).toBe(4n * 10n ** 18n);
  });

  it('keeps all the digits of the rate (Kraken trailing zeros change nothing)', () => {
    expect(amountDue(1000n, 2, '65012.50000', 8)).toBe(amountDue(1000n, 2, '65012.5', 8));
    expect(amountDue(1000n, 2, '65012.5', 8)).toBe(15_382n); // 10^12 / 65012500 = 15381.66…
  });

  it('rounds up by a single base unit, not more', () => {
    // 1 USD at 3 USD per unit with 0 asset decimals: 1/3 → 1
    expect(amountDue(100n, 2, '3', 0)).toBe(1n);
    // 0.01 USD at 65000.12: far below one sat's worth… still at least one sat
    expect(amountDue(1n, 2, '65000.12', 8)).toBe(16n); // 10^8 / 6500012 = 15.38…
  });

  it('handles a zero-decimal currency (JPY) and a zero price', () => {
    expect(amountDue(10_000n, 0, '10000000', 8)).toBe(100_000n); // ¥10,000 at ¥10M/BTC = 0.001 BTC
    expect(amountDue(0n, 2, '65000', 8)).toBe(0n);
  });

  it('does not lose precision on amounts far beyond 2^53', () => {
    const price = 123_456_789_012_345_678_901n; // cents
    expect(amountDue(price, 2, '1', 18)).toBe(price * 10n ** 16n);
  });

  it.each(['0', '0.000', '-1', '1e3', '', ' 1', 'NaN', '1.'])('rejects the rate %j', (rate) => {
    expect(() => amountDue(1000n, 2, rate, 8)).toThrowError(TallyError);
    try {
      amountDue(1000n, 2, rate, 8);
    } catch (error) {
      expect((error as TallyError).code).toBe('rate_unavailable');
    }
  });

  it('rejects a negative price and nonsense decimals', () => {
    expect(() => amountDue(-1n, 2, '1', 8)).toThrow(RangeError);
    expect(() => amountDue(1n, 2.5, '1', 8)).toThrow(RangeError);
    expect(() => amountDue(1n, 2, '1', -1)).toThrow(RangeError);
  });

  it('property: never asks less than the price, and one unit less would be too little', () => {
    const rateArb = fc
      .tuple(fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.integer({ min: 0, max: 12 }))
      .map(([units, scale]) => {
        const digits = units.toString().padStart(scale + 1, '0');
        const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
        return { text, units, scale };
      });
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 24n }),
        fc.integer({ min: 0, max: 8 }),
        rateArb,
        fc.integer({ min: 0, max: 18 }),
        (price, priceDecimals, rate, assetDecimals) => {
          const due = amountDue(price, priceDecimals, rate.text, assetDecimals);
          // Compare due/10^ad * units/10^scale against price/10^pd on a common denominator.
          const paid = (n: bigint) => n * rate.units * 10n ** BigInt(priceDecimals);
          const asked = price * 10n ** BigInt(assetDecimals + rate.scale);
          expect(paid(due)).toBeGreaterThanOrEqual(asked);
          expect(paid(due - 1n)).toBeLessThan(asked);
        },
      ),
      { numRuns: 500 },
    );
  });
});
