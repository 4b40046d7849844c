import { type Clock, systemClock } from '../../core/clock.ts';
import { isAssetCode, isPositiveDecimal } from '../decimal.ts';
import { preview, rateUnavailable } from '../errors.ts';
import type { Quote, RateProvider } from '../rate-provider.ts';
import { getText, isRecord, parseJson } from './http.ts';

/**
 * Coinbase public REST spot price: GET /v2/prices/BTC-USD/spot.
 * Answer: {"data":{"amount":"65000.12","base":"BTC","currency":"USD"}}; failures come as
 * {"errors":[{"id":"not_found","message":"…"}]} with a 4xx status.
 */

export interface CoinbaseOptions {
  baseUrl?: string;
  timeoutMs?: number;
  clock?: Clock;
}

export const COINBASE_DEFAULT_URL = 'https://api.coinbase.com';

export class CoinbaseRateProvider implements RateProvider {
  readonly name = 'coinbase';
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly clock: Clock;

  constructor(options: CoinbaseOptions = {}) {
    this.baseUrl = (options.baseUrl ?? COINBASE_DEFAULT_URL).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.clock = options.clock ?? systemClock;
  }

  async getQuote(base: string, quote: string, signal?: AbortSignal): Promise<Quote> {
    if (!isAssetCode(base) || !isAssetCode(quote)) {
      throw rateUnavailable(this.name, `invalid pair "${base}/${quote}"`);
    }
    const pair = `${base}-${quote}`;
    const url = `${this.baseUrl}/v2/prices/${pair}/spot`;
    const response = await getText(url, { source: this.name, timeoutMs: this.timeoutMs, signal });
    // The spot endpoint carries no timestamp; the moment we received it is the honest bound.
    const fetchedAt = this.clock.now();
    if (response.status < 200 || response.status >= 300) {
      throw rateUnavailable(this.name, `HTTP ${response.status} for ${pair}${errorSuffix(response.text)}`);
    }
    const body = parseJson(response.text, this.name);
    const data = isRecord(body) ? body.data : undefined;
    if (!isRecord(data)) {
      throw rateUnavailable(this.name, `unexpected response shape (no data)${errorSuffix(response.text)}`);
    }
    // Coinbase echoes the pair; a mismatch means we would price the wrong thing, so refuse it.
    if (data.base !== base || data.currency !== quote) {
      throw rateUnavailable(
        this.name,
        `answered for ${preview(data.base)}-${preview(data.currency)} instead of ${pair}`,
      );
    }
    if (!isPositiveDecimal(data.amount)) {
      throw rateUnavailable(
        this.name,
        `price for ${pair} is not a positive decimal string (${preview(data.amount)})`,
      );
    }
    return { base, quote, value: data.amount, source: this.name, fetchedAt };
  }
}

/** Coinbase explains failures in `errors[0].message`; include it when the body has one. */
function errorSuffix(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    const first = isRecord(body) && Array.isArray(body.errors) ? body.errors[0] : undefined;
    const message = isRecord(first) ? first.message : undefined;
    return typeof message === 'string' ? `: ${message.slice(0, 120)}` : '';
  } catch {
    return '';
  }
}
