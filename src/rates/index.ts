import { type Clock, systemClock } from '../core/clock.ts';
import { validationError } from '../core/errors.ts';
import { CoinbaseRateProvider } from './providers/coinbase.ts';
import { DEV_FIXED_RATES, FixedRateProvider } from './providers/fixed.ts';
import { KrakenRateProvider } from './providers/kraken.ts';
import type { RateProvider } from './rate-provider.ts';
import { RateService } from './rate-service.ts';

/** The rates module's one public entry. */
export { amountDue } from './convert.ts';
export { isPositiveDecimal, parsePositiveDecimal } from './decimal.ts';
export { COINBASE_DEFAULT_URL, CoinbaseRateProvider } from './providers/coinbase.ts';
export { DEV_FIXED_RATES, FixedRateProvider } from './providers/fixed.ts';
export { KRAKEN_DEFAULT_URL, KrakenRateProvider } from './providers/kraken.ts';
export type { Quote, RateProvider } from './rate-provider.ts';
export type { RateAttempt, RateServiceOptions } from './rate-service.ts';
export { IDENTITY_SOURCE, RateService } from './rate-service.ts';

export const RATE_SOURCES = ['fixed', 'kraken', 'coinbase'] as const;
export type RateSourceName = (typeof RATE_SOURCES)[number];

export interface RateConfig {
  /** One source or a comma-separated fallback list, tried in order: "kraken,coinbase". */
  source: string | readonly RateSourceName[];
  /** Oldest quote accepted. Default 60 s. */
  maxAgeMs?: number;
  /** Reuse of an accepted quote per pair. Default 5 s; 0 disables. */
  cacheTtlMs?: number;
  /** Per-request timeout for HTTP providers. Default 5 s. */
  timeoutMs?: number;
  /** Table for the `fixed` source. Default DEV_FIXED_RATES. */
  fixedRates?: Readonly<Record<string, string>>;
  krakenBaseUrl?: string;
  coinbaseBaseUrl?: string;
  clock?: Clock;
}

/** Parses "kraken, coinbase" into a checked, duplicate-free list; fails at boot on anything else. */
export function parseRateSources(source: string | readonly string[]): RateSourceName[] {
  const names = (typeof source === 'string' ? source.split(',') : [...source]).map((s) =>
    s.trim().toLowerCase(),
  );
  const path = 'rates.source';
  if (names.length === 0 || names.some((n) => n === '')) {
    throw validationError([{ path, message: `must list one or more of ${RATE_SOURCES.join(', ')}` }]);
  }
  const result: RateSourceName[] = [];
  for (const name of names) {
    const known = RATE_SOURCES.find((s) => s === name);
    if (!known) throw validationError([{ path, message: `unknown rate source "${name}"` }]);
    if (result.includes(known)) {
      throw validationError([{ path, message: `rate source "${name}" is listed twice` }]);
    }
    result.push(known);
  }
  return result;
}

export function createRateService(config: RateConfig): RateService {
  const clock = config.clock ?? systemClock;
  const timeoutMs = config.timeoutMs ?? 5_000;
  const providers = parseRateSources(config.source).map((name): RateProvider => {
    switch (name) {
      case 'fixed':
        return new FixedRateProvider(config.fixedRates ?? DEV_FIXED_RATES, clock);
      case 'kraken':
        return new KrakenRateProvider({ timeoutMs, clock, ...baseUrl(config.krakenBaseUrl) });
      case 'coinbase':
        return new CoinbaseRateProvider({ timeoutMs, clock, ...baseUrl(config.coinbaseBaseUrl) });
      default: {
        const unreachable: never = name;
        throw new Error(`unhandled rate source ${String(unreachable)}`);
      }
    }
  });
  return new RateService({
    providers,
    clock,
    maxAgeMs: config.maxAgeMs ?? 60_000,
    cacheTtlMs: config.cacheTtlMs ?? 5_000,
  });
}

/** exactOptionalPropertyTypes: pass baseUrl only when set, so the provider's default applies. */
function baseUrl(url: string | undefined): { baseUrl?: string } {
  return url === undefined ? {} : { baseUrl: url };
}
