/**
 * Exchange rates are decimal strings ("65012.50000"). This file is the one place that decides what
 * a valid rate looks like and turns it into an exact rational (units / 10^scale) — never a float.
 */

/** Plain decimal: no sign, no exponent, no spaces, no thousands separators, no leading zeros. */
const DECIMAL = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** Longer strings are not prices; refusing them keeps bigint work bounded. */
const MAX_LENGTH = 64;

export interface ExactDecimal {
  /** All digits without the point: "65000.12" → 6500012n. */
  units: bigint;
  /** Digits after the point: "65000.12" → 2. */
  scale: number;
}

/** Parses a strictly positive decimal string, or returns null for anything else (0, "-1", "1e5", " 1"). */
export function parsePositiveDecimal(text: unknown): ExactDecimal | null {
  if (typeof text !== 'string' || text.length > MAX_LENGTH || !DECIMAL.test(text)) return null;
  const [whole = '0', fraction = ''] = text.split('.');
  const units = BigInt(whole + fraction);
  if (units <= 0n) return null;
  return { units, scale: fraction.length };
}

export function isPositiveDecimal(text: unknown): text is string {
  return parsePositiveDecimal(text) !== null;
}

/** Asset and currency codes go into provider URLs, so only plain tickers pass ("BTC", "USDC", "POL"). */
const ASSET_CODE = /^[A-Z0-9]{2,12}$/;

export function isAssetCode(code: unknown): code is string {
  return typeof code === 'string' && ASSET_CODE.test(code);
}
