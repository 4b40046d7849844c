import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TallyError } from '../../src/core/errors.ts';
import { basisPoints, formatAmount, MAX_BASE_UNITS, parseAmount } from '../../src/core/money.ts';

describe('money', () => {
  it('parses decimal strings into exact base units', () => {
    expect(parseAmount('12.34', 2, 'x')).toBe(1234n);
    expect(parseAmount('0.00000001', 8, 'x')).toBe(1n);
    expect(parseAmount('1', 18, 'x')).toBe(10n ** 18n);
    expect(
      parseAmount('115792089237316195423570985008687907853269984665640564039457584007913129639935', 0, 'x'),
    ).toBe(MAX_BASE_UNITS);
  });

  it.each(['1e5', '-1', '+1', '01', '1.', '.5', ' 1', '1 ', 'abc', '', '0x10', '1,5', 'NaN', 'Infinity'])(
    'refuses %j naming the field',
    (text) => {
      try {
        parseAmount(text, 8, 'price.amount');
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(TallyError);
        expect((error as TallyError).code).toBe('validation_failed');
        expect((error as TallyError).details).toMatchObject({ issues: [{ path: 'price.amount' }] });
      }
    },
  );

  it('refuses more decimals than the unit has, and values above uint256', () => {
    expect(() => parseAmount('0.001', 2, 'a')).toThrow(/decimal places/);
    expect(() => parseAmount((MAX_BASE_UNITS + 1n).toString(), 0, 'a')).toThrow(/too large/);
  });

  it('formats and parses back to the same units (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: MAX_BASE_UNITS }),
        fc.integer({ min: 0, max: 30 }),
        (units, decimals) => {
          expect(parseAmount(formatAmount(units, decimals), decimals, 'x')).toBe(units);
        },
      ),
    );
  });

  it('rounds tolerances down', () => {
    expect(basisPoints(10_001n, 50)).toBe(50n);
    expect(basisPoints(199n, 50)).toBe(0n);
  });
});
