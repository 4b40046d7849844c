import { readFileSync } from 'node:fs';
import { redactUrl } from './chains/evm/rpc-client.ts';
import { parseEvmRpc } from './chains/evm/rpc-config.ts';
import { TallyError } from './core/errors.ts';
import { parseRateSources } from './rates/index.ts';
import { AllowList } from './webhooks/ssrf-guard.ts';

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
  /**
   * PostgreSQL: the invoice-batch statement as a named prepared statement, parsed once per
   * connection, and planned once when PostgreSQL settles on a generic plan (decision 0020). `off`
   * behind a pooler that does not keep them (PgBouncer before 1.21, or with
   * max_prepared_statements = 0); the gateway also turns them off by itself the first time the
   * server has lost one.
   */
  pgPreparedStatements: 'on' | 'off';
  /** Comma-separated providers tried in order: fixed, kraken, coinbase. */
  rateSources: string;
  rateMaxAgeSeconds: number;
  logLevel: string;
  addressPoolTarget: number;
  workerIntervalMs: number;
  /** PostgreSQL: invoice-creation batches written in parallel (see invoice-writer.ts). */
  invoiceWriteBatches: number;
  /** Bitcoin node JSON-RPC (btcd or Bitcoin Core); empty: no Bitcoin watcher runs. */
  bitcoinRpcUrl: string;
  bitcoinRpcUser: string;
  bitcoinRpcPassword: string;
  /** The registry network the node serves: bitcoin, bitcoin-testnet or bitcoin-regtest. */
  bitcoinNetwork: string;
  bitcoinPollMs: number;
  /** First block to scan on a fresh database; -1 starts at the node's tip. */
  bitcoinStartHeight: number;
  /** An unconfirmed payment transaction gone from the mempool this long (and not mined) is dropped. */
  bitcoinDroppedAfterSeconds: number;
  /** EVM networks to watch and their RPC URLs (src/chains/evm/rpc-config.ts); empty: none. */
  evmRpc: string;
  evmPollMs: number;
  /** Widest block range asked of eth_getLogs at once (providers cap it). */
  evmMaxLogRange: number;
  /** Dev mode only: `auto` starts the local anvil devnet when no EVM RPC is configured; `off` never. */
  devnet: 'auto' | 'off';
  /** Webhook URLs may reach these addresses/CIDRs although private or loopback (comma-separated). */
  webhookAllowedNetworks: string;
  /** A webhook attempt must be answered (headers and body) within this. */
  webhookTimeoutMs: number;
  /** Webhook requests in flight per gateway process. */
  webhookConcurrency: number;
  /** Of those, at most this many to one endpoint, so a slow endpoint cannot take every slot. */
  webhookEndpointConcurrency: number;
  /** How often the delivery worker looks for new events and due retries when idle. */
  webhookPollMs: number;
}

const DEFAULTS: Config = {
  mode: 'dev',
  host: '127.0.0.1',
  port: 4000,
  databaseUrl: 'sqlite:./.tally/tally.db',
  databasePoolSize: 10,
  pgPreparedStatements: 'on',
  rateSources: 'fixed',
  rateMaxAgeSeconds: 60,
  logLevel: 'info',
  addressPoolTarget: 100,
  workerIntervalMs: 500,
  // Two batches in flight on PostgreSQL: one is built while the other waits on the server
  // (docs/decisions/0012: 3,591 and 3,831 req/s vs 3,041 with one and 3,152 with four).
  invoiceWriteBatches: 2,
  bitcoinRpcUrl: '',
  bitcoinRpcUser: '',
  bitcoinRpcPassword: '',
  bitcoinNetwork: 'bitcoin',
  bitcoinPollMs: 250,
  bitcoinStartHeight: -1,
  bitcoinDroppedAfterSeconds: 3600,
  evmRpc: '',
  evmPollMs: 1000,
  evmMaxLogRange: 1000,
  devnet: 'auto',
  webhookAllowedNetworks: '',
  webhookTimeoutMs: 10_000,
  webhookConcurrency: 64,
  webhookEndpointConcurrency: 16,
  webhookPollMs: 20,
};

const ENV: Record<keyof Config, string> = {
  mode: 'TALLY_MODE',
  host: 'TALLY_HOST',
  port: 'TALLY_PORT',
  databaseUrl: 'TALLY_DATABASE_URL',
  databasePoolSize: 'TALLY_DATABASE_POOL_SIZE',
  pgPreparedStatements: 'TALLY_PG_PREPARED_STATEMENTS',
  rateSources: 'TALLY_RATE_SOURCES',
  rateMaxAgeSeconds: 'TALLY_RATE_MAX_AGE_SECONDS',
  logLevel: 'TALLY_LOG_LEVEL',
  addressPoolTarget: 'TALLY_ADDRESS_POOL_TARGET',
  workerIntervalMs: 'TALLY_WORKER_INTERVAL_MS',
  invoiceWriteBatches: 'TALLY_INVOICE_WRITE_BATCHES',
  bitcoinRpcUrl: 'TALLY_BITCOIN_RPC_URL',
  bitcoinRpcUser: 'TALLY_BITCOIN_RPC_USER',
  bitcoinRpcPassword: 'TALLY_BITCOIN_RPC_PASSWORD',
  bitcoinNetwork: 'TALLY_BITCOIN_NETWORK',
  bitcoinPollMs: 'TALLY_BITCOIN_POLL_MS',
  bitcoinStartHeight: 'TALLY_BITCOIN_START_HEIGHT',
  bitcoinDroppedAfterSeconds: 'TALLY_BITCOIN_DROPPED_AFTER_SECONDS',
  evmRpc: 'TALLY_EVM_RPC',
  evmPollMs: 'TALLY_EVM_POLL_MS',
  evmMaxLogRange: 'TALLY_EVM_MAX_LOG_RANGE',
  devnet: 'TALLY_DEVNET',
  webhookAllowedNetworks: 'TALLY_WEBHOOK_ALLOWED_NETWORKS',
  webhookTimeoutMs: 'TALLY_WEBHOOK_TIMEOUT_MS',
  webhookConcurrency: 'TALLY_WEBHOOK_CONCURRENCY',
  webhookEndpointConcurrency: 'TALLY_WEBHOOK_ENDPOINT_CONCURRENCY',
  webhookPollMs: 'TALLY_WEBHOOK_POLL_MS',
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const file = env.TALLY_CONFIG ? readConfigFile(env.TALLY_CONFIG) : {};
  const merged: Record<string, unknown> = { ...DEFAULTS, ...file };
  for (const [key, name] of Object.entries(ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '') merged[key] = value;
  }
  Object.assign(merged, overrides);
  return validate(merged);
}

/**
 * TALLY_CONFIG's JSON file: an object keyed by the Config names (`port`, `databaseUrl`, …), not the
 * environment variables' names. A key it does not know is refused rather than ignored: a file
 * saying `{"TALLY_PORT": 4001}` would otherwise start a gateway on the default port.
 */
function readConfigFile(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new TallyError(
      'invalid_config',
      `Invalid configuration: TALLY_CONFIG ${path}: ${(error as Error).message}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new TallyError(
      'invalid_config',
      `Invalid configuration: TALLY_CONFIG ${path} must hold a JSON object`,
    );
  const unknown = Object.keys(parsed).filter((key) => !Object.hasOwn(ENV, key));
  if (unknown.length > 0) {
    const hints = unknown.map((key) => {
      const named = Object.entries(ENV).find(([, name]) => name === key)?.[0];
      return named ? `"${key}" (write "${named}")` : `"${key}"`;
    });
    throw new TallyError(
      'invalid_config',
      `Invalid configuration: TALLY_CONFIG ${path} has unknown keys ${hints.join(', ')}; its keys are ${Object.keys(ENV).join(', ')}`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** pino's levels; anything else made the logger throw an unclear error at start. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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
    pgPreparedStatements: raw.pgPreparedStatements === 'off' ? 'off' : 'on',
    rateSources: String(raw.rateSources),
    rateMaxAgeSeconds: int('rateMaxAgeSeconds', 1, 3600),
    logLevel: String(raw.logLevel),
    addressPoolTarget: int('addressPoolTarget', 0, 1_000_000),
    workerIntervalMs: int('workerIntervalMs', 10, 60_000),
    invoiceWriteBatches: int('invoiceWriteBatches', 1, 64),
    bitcoinRpcUrl: String(raw.bitcoinRpcUrl),
    bitcoinRpcUser: String(raw.bitcoinRpcUser),
    bitcoinRpcPassword: String(raw.bitcoinRpcPassword),
    bitcoinNetwork: String(raw.bitcoinNetwork),
    bitcoinPollMs: int('bitcoinPollMs', 10, 600_000),
    bitcoinStartHeight: int('bitcoinStartHeight', -1, 100_000_000),
    bitcoinDroppedAfterSeconds: int('bitcoinDroppedAfterSeconds', 1, 30 * 86_400),
    evmRpc: String(raw.evmRpc),
    evmPollMs: int('evmPollMs', 10, 600_000),
    evmMaxLogRange: int('evmMaxLogRange', 1, 100_000),
    devnet: raw.devnet === 'off' ? 'off' : 'auto',
    webhookAllowedNetworks: String(raw.webhookAllowedNetworks),
    webhookTimeoutMs: int('webhookTimeoutMs', 100, 60_000),
    webhookConcurrency: int('webhookConcurrency', 1, 1000),
    webhookEndpointConcurrency: int('webhookEndpointConcurrency', 1, 1000),
    webhookPollMs: int('webhookPollMs', 5, 60_000),
  };
  try {
    new AllowList(config.webhookAllowedNetworks);
  } catch (error) {
    problems.push(`TALLY_WEBHOOK_ALLOWED_NETWORKS: ${(error as Error).message}`);
  }
  if (!['bitcoin', 'bitcoin-testnet', 'bitcoin-regtest'].includes(config.bitcoinNetwork))
    problems.push('TALLY_BITCOIN_NETWORK must be bitcoin, bitcoin-testnet or bitcoin-regtest');
  if (config.bitcoinRpcUrl !== '' && !/^https?:\/\//.test(config.bitcoinRpcUrl))
    problems.push('TALLY_BITCOIN_RPC_URL must be an http(s) URL');
  problems.push(...parseEvmRpc(config.evmRpc).problems);
  if (raw.pgPreparedStatements !== 'on' && raw.pgPreparedStatements !== 'off')
    problems.push('TALLY_PG_PREPARED_STATEMENTS must be on or off');
  if (raw.devnet !== undefined && raw.devnet !== 'auto' && raw.devnet !== 'off')
    problems.push('TALLY_DEVNET must be auto or off');
  if (!LOG_LEVELS.includes(config.logLevel))
    problems.push(`TALLY_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  if (raw.mode !== undefined && raw.mode !== 'dev' && raw.mode !== 'production')
    problems.push('TALLY_MODE must be dev or production');
  const databaseProblem = databaseUrlProblem(config.databaseUrl);
  if (databaseProblem) problems.push(`TALLY_DATABASE_URL ${databaseProblem}`);
  try {
    parseRateSources(config.rateSources);
  } catch (error) {
    const details = (error as TallyError).details as { issues?: Array<{ message: string }> } | undefined;
    const issue = details?.issues?.[0]?.message ?? (error as Error).message;
    problems.push(`TALLY_RATE_SOURCES: ${issue}`);
  }
  if (config.mode === 'production' && config.rateSources.split(',').includes('fixed')) {
    problems.push('TALLY_RATE_SOURCES must not use the fixed dev rates in production');
  }
  if (problems.length > 0)
    throw new TallyError('invalid_config', `Invalid configuration: ${problems.join('; ')}`);
  return config;
}

/**
 * Why a database URL cannot be used, or null. A SQLite path is anything without a scheme (or with
 * `sqlite:`); any other scheme (`mysql://…`, a misspelt `postgress://…`) was taken for a file name,
 * and the gateway quietly started on a new SQLite file called `mysql:/…`.
 */
function databaseUrlProblem(url: string): string | null {
  if (url.trim() === '') return 'must not be empty';
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme === 'sqlite' || scheme === 'postgres' || scheme === 'postgresql')
    return null;
  return `must be a SQLite path (or sqlite:path) or a postgres:// URL, not a ${scheme}: URL`;
}

/** For the startup log: the database URL's password and the node's RPC password are never printed. */
export function redactedConfig(config: Config): Config {
  return {
    ...config,
    databaseUrl: config.databaseUrl.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@'),
    bitcoinRpcPassword: config.bitcoinRpcPassword === '' ? '' : '***',
    // Provider URLs often carry an API key in their path or query.
    evmRpc: config.evmRpc.replace(/https?:\/\/[^,;\s]+/g, (url) => redactUrl(url)),
  };
}
