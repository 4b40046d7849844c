import { type Clock, systemClock } from '../../core/clock.ts';
import { isAssetCode, isPositiveDecimal } from '../decimal.ts';
import { preview, rateUnavailable } from '../errors.ts';
import type { Quote, RateProvider } from '../rate-provider.ts';
import { getText, isRecord, parseJson } from './http.ts';

/**
 * Kraken public REST ticker: GET /0/public/Ticker?pair=XBTUSD.
 * Answer: {"error":[],"result":{"XXBTZUSD":{"c":["65012.50000","0.001"],…}}}; `c[0]` is the last
 * trade price, as a string, which we keep verbatim. Kraken reports failures in `error` (often with
 * HTTP 200), so an empty error array is required before any result is trusted.
 */

export interface KrakenOptions {
  baseUrl?: string;
  timeoutMs?: number;
  clock?: Clock;
}

export const KRAKEN_DEFAULT_URL = 'https://api.kraken.com';

/** Kraken's own names for some assets (it predates the common tickers). */
const KRAKEN_ASSET_NAMES: Readonly<Record<string, string>> = { BTC: 'XBT', DOGE: 'XDG' };

export function krakenAssetName(code: string): string {
  return KRAKEN_ASSET_NAMES[code] ?? code;
}

/**
 * Result keys Kraken may use for a pair: legacy pairs carry X (crypto) / Z (fiat) prefixes
 * ("XXBTZUSD", "XETHZEUR", "USDTZUSD", "XETHXXBT"), newer ones are plain ("USDCUSD", "POLUSD").
 * Only these are accepted, so a result for some other pair can never be read as ours.
 */
export function krakenResultKeys(base: string, quote: string): string[] {
  const b = krakenAssetName(base);
  const q = krakenAssetName(quote);
  return [`${b}${q}`, `X${b}Z${q}`, `X${b}X${q}`, `${b}Z${q}`];
}

export class KrakenRateProvider implements RateProvider {
  readonly name = 'kraken';
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly clock: Clock;

  constructor(options: KrakenOptions = {}) {
    this.baseUrl = (options.baseUrl ?? KRAKEN_DEFAULT_URL).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.clock = options.clock ?? systemClock;
  }

  async getQuote(base: string, quote: string, signal?: AbortSignal): Promise<Quote> {
    if (!isAssetCode(base) || !isAssetCode(quote)) {
      throw rateUnavailable(this.name, `invalid pair "${base}/${quote}"`);
    }
    const pair = `${krakenAssetName(base)}${krakenAssetName(quote)}`;
    const url = `${this.baseUrl}/0/public/Ticker?pair=${pair}`;
    const response = await getText(url, { source: this.name, timeoutMs: this.timeoutMs, signal });
    // The ticker has no timestamp of its own; the moment we received it is the honest bound.
    const fetchedAt = this.clock.now();
    if (response.status < 200 || response.status >= 300) {
      throw rateUnavailable(this.name, `HTTP ${response.status} for ${pair}`);
    }
    const body = parseJson(response.text, this.name);
    if (!isRecord(body) || !Array.isArray(body.error)) {
      throw rateUnavailable(this.name, 'unexpected response shape (no error array)');
    }
    if (body.error.length > 0) {
      throw rateUnavailable(this.name, `error ${body.error.map(String).join('; ')}`);
    }
    if (!isRecord(body.result)) {
      throw rateUnavailable(this.name, 'unexpected response shape (no result)');
    }
    const result = body.result;
    const key = krakenResultKeys(base, quote).find((k) => k in result);
    const ticker = key === undefined ? undefined : result[key];
    if (!isRecord(ticker)) {
      throw rateUnavailable(this.name, `pair ${pair} missing from result`);
    }
    const last = Array.isArray(ticker.c) ? ticker.c[0] : undefined;
    if (!isPositiveDecimal(last)) {
      throw rateUnavailable(
        this.name,
        `price for ${pair} is not a positive decimal string (${preview(last)})`,
      );
    }
    return { base, quote, value: last, source: this.name, fetchedAt };
  }
}
