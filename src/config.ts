import { readFileSync } from 'node:fs';
import { TallyError } from './core/errors.ts';

/**
 * Configuration from an optional JSON file (TALLY_CONFIG) overridden by environment variables,
 * validated once at boot. The defaults run the gateway with nothing else installed.
 */
export interface Config {
  mode: 'dev' | 'production';
  host: string;
  port: number;
  databaseUrl: string;
  databasePoolSize: number;
  /** Comma-separated providers tried in order: fixed, kraken, coinbase. */
  rateSources: string;
  rateMaxAgeSeconds: number;
  logLevel: string;
  addressPoolTarget: number;
  workerIntervalMs: number;
  /** PostgreSQL: invoice-creation batches written in parallel (see invoice-writer.ts). */
  invoiceWriteBatches: number;
}

const DEFAULTS: Config = {
  mode: 'dev',
  host: '127.0.0.1',
  port: 4000,
  databaseUrl: 'sqlite:./.tally/tally.db',
  databasePoolSize: 10,
  rateSources: 'fixed',
  rateMaxAgeSeconds: 60,
  logLevel: 'info',
  addressPoolTarget: 100,
  workerIntervalMs: 500,
  invoiceWriteBatches: 1,
};

const ENV: Record<keyof Config, string> = {
  mode: 'TALLY_MODE',
  host: 'TALLY_HOST',
  port: 'TALLY_PORT',
  databaseUrl: 'TALLY_DATABASE_URL',
  databasePoolSize: 'TALLY_DATABASE_POOL_SIZE',
  rateSources: 'TALLY_RATE_SOURCES',
  rateMaxAgeSeconds: 'TALLY_RATE_MAX_AGE_SECONDS',
  logLevel: 'TALLY_LOG_LEVEL',
  addressPoolTarget: 'TALLY_ADDRESS_POOL_TARGET',
  workerIntervalMs: 'TALLY_WORKER_INTERVAL_MS',
  invoiceWriteBatches: 'TALLY_INVOICE_WRITE_BATCHES',
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const file = env.TALLY_CONFIG
    ? (JSON.parse(readFileSync(env.TALLY_CONFIG, 'utf8')) as Partial<Config>)
    : {};
  const merged: Record<string, unknown> = { ...DEFAULTS, ...file };
  for (const [key, name] of Object.entries(ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '') merged[key] = value;
  }
  Object.assign(merged, overrides);
  return validate(merged);
}

function validate(raw: Record<string, unknown>): Config {
  const problems: string[] = [];
  const int = (key: keyof Config, min: number, max: number): number => {
    const n = Number(raw[key]);
    if (!Number.isInteger(n) || n < min || n > max)
      problems.push(`${ENV[key]} must be an integer ${min}..${max}`);
    return n;
  };
  const config: Config = {
    mode: raw.mode === 'production' ? 'production' : 'dev',
    host: String(raw.host),
    port: int('port', 0, 65535),
    databaseUrl: String(raw.databaseUrl),
    databasePoolSize: int('databasePoolSize', 1, 200),
    rateSources: String(raw.rateSources),
    rateMaxAgeSeconds: int('rateMaxAgeSeconds', 1, 3600),
    logLevel: String(raw.logLevel),
    addressPoolTarget: int('addressPoolTarget', 0, 1_000_000),
    workerIntervalMs: int('workerIntervalMs', 10, 60_000),
    invoiceWriteBatches: int('invoiceWriteBatches', 1, 64),
  };
  if (raw.mode !== undefined && raw.mode !== 'dev' && raw.mode !== 'production')
    problems.push('TALLY_MODE must be dev or production');
  if (config.mode === 'production' && config.rateSources.split(',').includes('fixed')) {
    problems.push('TALLY_RATE_SOURCES must not use the fixed dev rates in production');
  }
  if (problems.length > 0)
    throw new TallyError('service_unavailable', `Invalid configuration: ${problems.join('; ')}`);
  return config;
}

/** For the startup log: the database URL's password is never printed. */
export function redactedConfig(config: Config): Config {
  return { ...config, databaseUrl: config.databaseUrl.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@') };
}
