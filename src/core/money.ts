import { TallyError, validationError } from './errors.ts';

/**
 * Money is a bigint of base units inside Tally and a plain decimal string on the wire.
 * JS numbers never carry an amount: they lose precision above 2^53 (about 0.09 ETH in wei).
 */

/** The largest amount accepted anywhere: fits NUMERIC(78,0) and uint256. */
export const MAX_BASE_UNITS = 2n ** 256n - 1n;

const DECIMAL = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/**
 * Parses "12.34" with `decimals` places into base units. Refuses exponents, signs, spaces,
 * more fractional digits than the unit allows, and values above uint256, naming `field`.
 */
export function parseAmount(text: string, decimals: number, field: string): bigint {
  if (typeof text !== 'string' || !DECIMAL.test(text)) {
    throw validationError([
      { path: field, message: 'must be a non-negative decimal string such as "12.34"' },
    ]);
  }
  const [whole = '0', fraction = ''] = text.split('.');
  if (fraction.length > decimals) {
    throw validationError([{ path: field, message: `has more than ${decimals} decimal places` }]);
  }
  if (whole.length > 78) {
    throw validationError([{ path: field, message: 'is too large' }]);
  }
  const units = BigInt(whole + fraction.padEnd(decimals, '0'));
  if (units > MAX_BASE_UNITS) {
    throw validationError([{ path: field, message: 'is too large' }]);
  }
  return units;
}

/** Formats base units as a decimal string with trailing zeros trimmed ("1.5", "0.00000001", "3"). */
export function formatAmount(units: bigint, decimals: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** Parses base units stored as text (SQLite) or NUMERIC (PostgreSQL, returned as string by pg). */
export function unitsFromDb(value: string | number | bigint): bigint {
  if (typeof value === 'number') {
    throw new TallyError('internal', 'amount column returned a JS number; refusing to lose precision');
  }
  return BigInt(value);
}

/** Integer division rounding up: never ask the customer for less than the price. */
export function divCeil(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new RangeError('divisor must be positive');
  return (a + b - 1n) / b;
}

/** `amount * bps / 10_000`, rounded down: tolerances never grow past what the merchant set. */
export function basisPoints(amount: bigint, bps: number): bigint {
  return (amount * BigInt(bps)) / 10_000n;
}
