import type { Logger } from 'pino';
import type { ChainStatus } from './chains/chain-status.ts';
import type { Config } from './config.ts';
import type { Clock } from './core/clock.ts';
import type { Database } from './db/connect.ts';
import type { Quote } from './rates/rate-provider.ts';

export interface QuoteSource {
  getQuote(base: string, quote: string): Promise<Quote>;
}

/**
 * Is the chain watcher for a network caught up to `at`? Expiry asks before expiring an invoice,
 * so a lagging or stalled node can never expire an invoice whose payment is in an unread block.
 * Networks without a watcher answer true: nobody could report a payment there anyway.
 */
export interface ChainHealth {
  caughtUpTo(network: string, at: Date): boolean;
  /** Each watcher's node height, cursor, sync state and last error, for /readyz and metrics. */
  statuses(): ChainStatus[];
}

/** Everything a service needs, passed explicitly: no module-level singletons. */
export interface Tally {
  config: Config;
  database: Database;
  clock: Clock;
  rates: QuoteSource;
  chainHealth: ChainHealth;
  log: Logger;
  /** Dev mode's local devnet while one runs (src/dev/devnet.ts); never set in production. */
  devnet?: { rpcUrl: string; bitcoinRpcUrl: string | null };
}

export const ALWAYS_CAUGHT_UP: ChainHealth = { caughtUpTo: () => true, statuses: () => [] };
