import type { Clock } from '../core/clock.ts';
import { TallyError } from '../core/errors.ts';
import { isAssetCode, isPositiveDecimal } from './decimal.ts';
import { preview } from './errors.ts';
import type { Quote, RateProvider } from './rate-provider.ts';

/**
 * The rate the rest of Tally asks for. Providers are tried in order; an answer is used only if it
 * is for the pair asked, a positive decimal, not older than `maxAgeMs` and not from the future. Any
 * refusal falls through to the next provider; when none is left the call fails closed with
 * rate_unavailable listing every attempt, so no invoice is ever priced on a guess.
 */

export interface RateServiceOptions {
  /** Tried in this order; the first acceptable answer wins. */
  providers: readonly RateProvider[];
  /** Oldest quote accepted, measured from the provider's `fetchedAt`. */
  maxAgeMs: number;
  clock: Clock;
  /** How far in the future a `fetchedAt` may be (clock drift); beyond it the quote is refused. Default 5 s. */
  maxFutureSkewMs?: number;
  /** How long an accepted quote is reused for the same pair; 0 disables the cache. Default 5 s. */
  cacheTtlMs?: number;
}

export interface RateAttempt {
  source: string;
  reason: string;
}

interface CacheEntry {
  quote: Quote;
  storedAt: number;
}

export const IDENTITY_SOURCE = 'identity';

export class RateService {
  private readonly providers: readonly RateProvider[];
  private readonly maxAgeMs: number;
  private readonly maxFutureSkewMs: number;
  private readonly cacheTtlMs: number;
  private readonly clock: Clock;
  private readonly cache = new Map<string, CacheEntry>();

  constructor(options: RateServiceOptions) {
    if (options.providers.length === 0) throw new RangeError('RateService needs at least one provider');
    this.providers = [...options.providers];
    this.maxAgeMs = nonNegative('maxAgeMs', options.maxAgeMs);
    this.maxFutureSkewMs = nonNegative('maxFutureSkewMs', options.maxFutureSkewMs ?? 5_000);
    this.cacheTtlMs = nonNegative('cacheTtlMs', options.cacheTtlMs ?? 5_000);
    this.clock = options.clock;
  }

  async getQuote(base: string, quote: string, signal?: AbortSignal): Promise<Quote> {
    if (!isAssetCode(base) || !isAssetCode(quote)) {
      throw new TallyError('rate_unavailable', `No rate for the invalid pair "${base}/${quote}".`, {
        tried: [],
      });
    }
    if (base === quote) {
      return { base, quote, value: '1', source: IDENTITY_SOURCE, fetchedAt: this.clock.now() };
    }
    const key = `${base}/${quote}`;
    const cached = this.fromCache(key);
    if (cached) return cached;

    const tried: RateAttempt[] = [];
    for (const provider of this.providers) {
      if (signal?.aborted) break;
      try {
        const answer = await provider.getQuote(base, quote, signal);
        const refusal = this.refusal(answer, base, quote);
        if (refusal === null) {
          const accepted = { ...answer, fetchedAt: new Date(answer.fetchedAt.getTime()) };
          if (this.cacheTtlMs > 0) {
            this.cache.set(key, { quote: accepted, storedAt: this.clock.now().getTime() });
          }
          return copy(accepted);
        }
        tried.push({ source: provider.name, reason: refusal });
      } catch (error) {
        tried.push({ source: provider.name, reason: reasonOf(error) });
      }
    }
    const aborted = signal?.aborted ? ' (aborted)' : '';
    const summary = tried.map((t) => `${t.source}: ${t.reason}`).join('; ');
    throw new TallyError('rate_unavailable', `No fresh ${key} rate${aborted}. ${summary}`.trim(), { tried });
  }

  /** Why an answer cannot be used, or null if it can. */
  private refusal(answer: Quote, base: string, quote: string): string | null {
    if (answer.base !== base || answer.quote !== quote) {
      return `answered ${preview(answer.base)}/${preview(answer.quote)} instead of ${base}/${quote}`;
    }
    if (!isPositiveDecimal(answer.value)) return `not a positive decimal rate (${preview(answer.value)})`;
    return this.ageRefusal(answer);
  }

  private ageRefusal(answer: Quote): string | null {
    const at = answer.fetchedAt instanceof Date ? answer.fetchedAt.getTime() : Number.NaN;
    if (Number.isNaN(at)) return 'quote has no valid fetchedAt';
    const age = this.clock.now().getTime() - at;
    if (age > this.maxAgeMs) return `stale: ${age} ms old (limit ${this.maxAgeMs} ms)`;
    if (-age > this.maxFutureSkewMs) {
      return `from the future: ${-age} ms ahead (skew limit ${this.maxFutureSkewMs} ms)`;
    }
    return null;
  }

  /** A cached quote is returned only while inside the TTL *and* still acceptable by age. */
  private fromCache(key: string): Quote | null {
    const entry = this.cache.get(key);
    if (!entry) return null;
    const now = this.clock.now().getTime();
    const expired = now - entry.storedAt >= this.cacheTtlMs || now < entry.storedAt;
    if (expired || this.ageRefusal(entry.quote) !== null) {
      this.cache.delete(key);
      return null;
    }
    return copy(entry.quote);
  }
}

function copy(quote: Quote): Quote {
  return { ...quote, fetchedAt: new Date(quote.fetchedAt.getTime()) };
}

function reasonOf(error: unknown): string {
  if (error instanceof TallyError && error.code === 'rate_unavailable') {
    // Provider messages already start with "<source>: "; the attempt records the source separately.
    const details = error.details;
    if (typeof details === 'object' && details !== null && 'reason' in details) return String(details.reason);
    return error.message;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative number of ms`);
  }
  return value;
}
