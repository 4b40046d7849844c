import { type Clock, systemClock } from '../../core/clock.ts';
import { isAssetCode, isPositiveDecimal } from '../decimal.ts';
import { rateUnavailable } from '../errors.ts';
import type { Quote, RateProvider } from '../rate-provider.ts';

/**
 * Rates from a table, for development and tests. Each answer is stamped "now", so it is never
 * stale; a pair not in the table fails like any other provider would (no inverse or cross rates
 * are invented).
 */

/** Plausible dev prices, keyed 'BASE/QUOTE'. Not market data: never use `fixed` in production. */
export const DEV_FIXED_RATES: Readonly<Record<string, string>> = Object.freeze({
  'BTC/USD': '65000',
  'ETH/USD': '3200',
  'USDC/USD': '1',
  'USDT/USD': '1',
  'POL/USD': '0.25',
  'BTC/EUR': '60000',
  'ETH/EUR': '2950',
  'USDC/EUR': '0.92',
  'USDT/EUR': '0.92',
  'POL/EUR': '0.23',
  'BTC/GBP': '51000',
  'ETH/GBP': '2500',
  'USDC/GBP': '0.79',
  'USDT/GBP': '0.79',
  'POL/GBP': '0.2',
  'BTC/JPY': '9750000',
  'ETH/JPY': '480000',
  'USDC/JPY': '150',
  'USDT/JPY': '150',
  'POL/JPY': '37.5',
  // A price in a stablecoin, paid in another asset.
  'BTC/USDC': '65000',
  'ETH/USDC': '3200',
  'USDT/USDC': '1',
  'POL/USDC': '0.25',
  'USDC/USDC': '1',
  'BTC/USDT': '65000',
  'ETH/USDT': '3200',
  'USDC/USDT': '1',
  'POL/USDT': '0.25',
  'USDT/USDT': '1',
  // A price in a coin, paid in another (the USD prices above, divided): a dev invoice priced in BTC
  // offers the devnet's ETH too, and failed with rate_unavailable without these.
  'ETH/BTC': '0.0492307692',
  'USDC/BTC': '0.0000153846',
  'USDT/BTC': '0.0000153846',
  'POL/BTC': '0.0000038462',
  'BTC/ETH': '20.3125',
  'USDC/ETH': '0.0003125',
  'USDT/ETH': '0.0003125',
  'POL/ETH': '0.000078125',
  'BTC/POL': '260000',
  'ETH/POL': '12800',
  'USDC/POL': '4',
  'USDT/POL': '4',
});

export class FixedRateProvider implements RateProvider {
  readonly name = 'fixed';
  private readonly table: ReadonlyMap<string, string>;

  /** Validates the whole table up front so a typo fails at boot, not at the first invoice. */
  constructor(
    table: Readonly<Record<string, string>> = DEV_FIXED_RATES,
    private readonly clock: Clock = systemClock,
  ) {
    const entries = new Map<string, string>();
    for (const [pair, value] of Object.entries(table)) {
      const [base, quote, extra] = pair.split('/');
      if (!isAssetCode(base) || !isAssetCode(quote) || extra !== undefined) {
        throw new RangeError(`fixed rates: "${pair}" is not a BASE/QUOTE pair`);
      }
      if (!isPositiveDecimal(value)) {
        throw new RangeError(`fixed rates: ${pair} = "${value}" is not a positive decimal string`);
      }
      entries.set(pair, value);
    }
    this.table = entries;
  }

  async getQuote(base: string, quote: string): Promise<Quote> {
    const value = this.table.get(`${base}/${quote}`);
    if (value === undefined) throw rateUnavailable(this.name, `no fixed rate for ${base}/${quote}`);
    return { base, quote, value, source: this.name, fetchedAt: this.clock.now() };
  }
}
