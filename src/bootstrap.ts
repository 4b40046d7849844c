import pino, { type Logger } from 'pino';
import type { Config } from './config.ts';
import { ALWAYS_CAUGHT_UP, type QuoteSource, type Tally } from './context.ts';
import { type Clock, systemClock } from './core/clock.ts';
import { openDatabase } from './db/connect.ts';
import { migrate } from './db/migrate.ts';
import { createRateService } from './rates/index.ts';

/** Secrets never reach the logs: API keys, cookies, xpubs and anything named like a secret. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.token',
  '*.secret',
  '*.password',
  '*.xpub',
  '*.authorization',
];

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}

export interface OpenOptions {
  clock?: Clock;
  rates?: QuoteSource;
  log?: Logger;
}

/** Opens the database, applies migrations, and wires the services. */
export async function openTally(config: Config, options: OpenOptions = {}): Promise<Tally> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger(config);
  const database = openDatabase({
    url: config.databaseUrl,
    poolSize: config.databasePoolSize,
    preparedStatements: config.pgPreparedStatements === 'on',
    warn: (message) => log.warn(message),
  });
  try {
    await migrate(database);
  } catch (error) {
    // A failed migration must not leave the pool (or the SQLite writer threads) open behind it.
    await database.close();
    throw error;
  }
  return {
    config,
    database,
    clock,
    rates:
      options.rates ??
      createRateService({ source: config.rateSources, maxAgeMs: config.rateMaxAgeSeconds * 1000, clock }),
    chainHealth: ALWAYS_CAUGHT_UP,
    log,
  };
}
