import { formatAmount, unitsFromDb } from '../core/money.ts';
import { currencyDecimals } from '../core/registry.ts';

/**
 * A price as people read it: all of its currency's decimals ("12.50 USD", not "12.5"), exact from
 * base units. Accepts base units (bigint or the database's text) or an already formatted decimal.
 */
export function formatPrice(value: bigint | string | number, currency: string, isBaseUnits = true): string {
  const decimals = currencyDecimals(currency) ?? 0;
  const text = isBaseUnits ? formatAmount(unitsFromDb(value), decimals) : String(value);
  if (decimals === 0) return text;
  const [whole, fraction = ''] = text.split('.');
  return `${whole}.${fraction.padEnd(decimals, '0')}`;
}
