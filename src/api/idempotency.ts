import { createHash } from 'node:crypto';
import type { Insertable, Transaction } from 'kysely';
import { TallyError, validationError } from '../core/errors.ts';
import type { Database } from '../db/connect.ts';
import type { IdempotencyKeysTable, Schema } from '../db/schema.ts';
import { isUniqueViolation } from '../db/unique-violation.ts';
import { iso } from '../db/values.ts';

/**
 * Idempotency-Key handling for creating POSTs. The stored response is written in the same
 * transaction as what it describes, so it exists exactly when the resource does. A key whose
 * first request is still running in this process answers 409; another process racing on the same
 * key loses on the primary key at commit and then replays the winner's response.
 */
const inFlight = new Set<string>();

export interface StoredResponse {
  status: number;
  body: unknown;
}

/** 1-255 visible ASCII characters; also the pattern /openapi.json publishes for the header. */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x21-\\x7e]{1,255}$';
const KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN);

export function readIdempotencyKey(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !KEY.test(value)) {
    throw validationError([
      { path: 'header.idempotency-key', message: 'must be 1-255 visible ASCII characters' },
    ]);
  }
  return value;
}

export function requestHash(method: string, url: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${url}\n${canonicalJson(body)}`)
    .digest('hex');
}

/** JSON with sorted keys, so the same body in another key order is the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

async function findStored(
  database: Database,
  merchantId: string,
  key: string,
  hash: string,
): Promise<StoredResponse | null> {
  const row = await database.db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('key', '=', key)
    .executeTakeFirst();
  if (!row) return null;
  if (row.request_hash !== hash) throw new TallyError('idempotency_key_reused');
  return { status: row.response_status, body: JSON.parse(row.response_body) };
}

export async function storeResponse(
  trx: Transaction<Schema>,
  merchantId: string,
  key: string,
  hash: string,
  response: StoredResponse,
  now: Date,
): Promise<void> {
  await trx
    .insertInto('idempotency_keys')
    .values(responseRow(merchantId, key, hash, response, now))
    .execute();
}

/** The row storeResponse inserts, for a writer that sends its statements precompiled. */
export function responseRow(
  merchantId: string,
  key: string,
  hash: string,
  response: StoredResponse,
  now: Date,
): Insertable<IdempotencyKeysTable> {
  return {
    merchant_id: merchantId,
    key,
    request_hash: hash,
    response_status: response.status,
    response_body: JSON.stringify(response.body),
    created_at: iso(now),
  };
}

/**
 * Runs `execute` at most once per (merchant, key). Returns the response and whether it was replayed.
 */
export async function withIdempotency(
  database: Database,
  merchantId: string,
  key: string,
  hash: string,
  execute: () => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  const slot = `${merchantId}\u0000${key}`;
  if (inFlight.has(slot)) throw new TallyError('idempotency_key_in_use');
  const stored = await findStored(database, merchantId, key, hash);
  if (stored) return { ...stored, replayed: true };
  if (inFlight.has(slot)) throw new TallyError('idempotency_key_in_use');
  inFlight.add(slot);
  try {
    return { ...(await execute()), replayed: false };
  } catch (error) {
    if (isUniqueViolation(error)) {
      const winner = await findStored(database, merchantId, key, hash);
      if (winner) return { ...winner, replayed: true };
    }
    throw error;
  } finally {
    inFlight.delete(slot);
  }
}
