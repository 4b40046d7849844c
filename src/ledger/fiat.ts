import { formatAmount } from '../core/money.ts';
import { currencyDecimals } from '../core/registry.ts';
import { parsePositiveDecimal } from '../rates/decimal.ts';

/**
 * The fiat value of a crypto amount at an invoice option's locked rate, as a decimal string in the
 * price currency, rounded half away from zero to the currency's minor unit. Exact bigint
 * arithmetic; null when no rate applies (a misdirected asset, or an unknown currency). When the
 * invoice is priced in the asset itself the value is the amount.
 */
export function fiatValue(
  amount: bigint,
  asset: { code: string; decimals: number; rate: string | null },
  currency: string,
): string | null {
  const places = currencyDecimals(currency);
  const units = fiatUnits(amount, asset, currency);
  return units === null || places === undefined ? null : formatAmount(units, places);
}

/** The same value in the currency's minor units (cents), for exact sums. */
export function fiatUnits(
  amount: bigint,
  asset: { code: string; decimals: number; rate: string | null },
  currency: string,
): bigint | null {
  const places = currencyDecimals(currency);
  if (places === undefined) return null;
  // Priced in the asset itself: the amount is the value (rescaled to the currency's places).
  if (asset.code === currency)
    return places >= asset.decimals
      ? amount * 10n ** BigInt(places - asset.decimals)
      : amount / 10n ** BigInt(asset.decimals - places);
  const rate = asset.rate === null ? null : parsedRate(asset.rate);
  if (!rate) return null;
  const negative = amount < 0n;
  const magnitude = negative ? -amount : amount;
  const numerator = magnitude * rate.units * 10n ** BigInt(places) * 2n;
  const denominator = 10n ** BigInt(rate.scale + asset.decimals);
  const rounded = (numerator / denominator + 1n) / 2n;
  return negative ? -rounded : rounded;
}

// A report converts a million amounts at a handful of locked rates: parse each rate once.
const rates = new Map<string, ReturnType<typeof parsePositiveDecimal>>();
function parsedRate(text: string) {
  let r = rates.get(text);
  if (r === undefined) {
    r = parsePositiveDecimal(text);
    if (rates.size > 10_000) rates.clear();
    rates.set(text, r);
  }
  return r;
}
