import { divCeil } from '../core/money.ts';
import { parsePositiveDecimal } from './decimal.ts';
import { rateUnavailable } from './errors.ts';

/**
 * How many base units of an asset a price costs at a rate, rounded up so the customer is never
 * asked for less than the price. Exact rational arithmetic on bigints:
 *
 *   price  = priceUnits / 10^priceDecimals            (quote currency, e.g. USD)
 *   rate   = rateUnits  / 10^rateScale                (quote currency per 1 asset)
 *   amount = price / rate * 10^assetDecimals          (asset base units, e.g. sats)
 *          = priceUnits * 10^(rateScale + assetDecimals) / (rateUnits * 10^priceDecimals)
 */
export function amountDue(
  priceUnits: bigint,
  priceDecimals: number,
  rate: string,
  assetDecimals: number,
): bigint {
  if (priceUnits < 0n) throw new RangeError('priceUnits must not be negative');
  checkDecimals('priceDecimals', priceDecimals);
  checkDecimals('assetDecimals', assetDecimals);
  const parsed = parsePositiveDecimal(rate);
  if (!parsed) {
    throw rateUnavailable('convert', `rate must be a positive decimal string, got ${JSON.stringify(rate)}`);
  }
  const numerator = priceUnits * 10n ** BigInt(parsed.scale + assetDecimals);
  const denominator = parsed.units * 10n ** BigInt(priceDecimals);
  return divCeil(numerator, denominator);
}

function checkDecimals(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 36) {
    throw new RangeError(`${name} must be an integer between 0 and 36`);
  }
}
