import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { TallyError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Schema } from '../db/schema.ts';
import { iso, toDate, toDateOrNull } from '../db/values.ts';
import type { ApiScope } from './scopes.ts';

/**
 * API keys look like `tally_sk_<key id>_<secret>`. The secret has 256 bits of entropy, so a plain
 * SHA-256 is enough to store it (no password stretching needed); it is shown once at creation.
 */
const TOKEN = /^tally_sk_(key_[0-9a-z]{26})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyPrincipal {
  keyId: string;
  merchantId: string;
  scopes: ApiScope[];
}

/** One-shot `hash`: every request hashes its key, and createHash's object cost a third more. */
function hashSecret(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}

export async function createApiKey(
  db: Kysely<Schema>,
  merchantId: string,
  name: string,
  scopes: readonly ApiScope[],
  now: Date,
): Promise<{ id: string; token: string }> {
  const id = newId('key');
  const secret = randomBytes(32).toString('base64url');
  await db
    .insertInto('api_keys')
    .values({
      id,
      merchant_id: merchantId,
      name,
      secret_hash: hashSecret(secret).toString('hex'),
      scopes: JSON.stringify(scopes),
      created_at: iso(now),
      revoked_at: null,
    })
    .execute();
  return { id, token: `tally_sk_${id}_${secret}` };
}

/**
 * Cache of verified keys. A revocation evicts at once in this process; other gateway processes
 * (PostgreSQL deployments) re-read a key at most 10 s after it was cached.
 */
const cache = new Map<string, { principal: ApiKeyPrincipal; hash: Buffer; until: number }>();
/**
 * Keys revoked by this process. A lookup that read the row before the revocation committed must not
 * put the key back into the cache afterwards; revocation is permanent, so the set only grows.
 */
const revoked = new Set<string>();

export async function authenticate(db: Kysely<Schema>, token: string | undefined): Promise<ApiKeyPrincipal> {
  const match = token ? TOKEN.exec(token) : null;
  if (!match) throw new TallyError('unauthenticated');
  const [, keyId = '', secret = ''] = match;
  const presented = hashSecret(secret);
  const cached = cache.get(keyId);
  if (cached && cached.until > Date.now()) {
    // The cached hash is kept as bytes: every request compares against it.
    if (timingSafeEqual(presented, cached.hash)) return cached.principal;
    throw new TallyError('unauthenticated');
  }
  const row = await db.selectFrom('api_keys').selectAll().where('id', '=', keyId).executeTakeFirst();
  if (!row || row.revoked_at !== null) throw new TallyError('unauthenticated');
  const stored = Buffer.from(row.secret_hash, 'hex');
  if (stored.length !== presented.length || !timingSafeEqual(presented, stored))
    throw new TallyError('unauthenticated');
  const principal = { keyId, merchantId: row.merchant_id, scopes: JSON.parse(row.scopes) as ApiScope[] };
  if (revoked.has(keyId)) throw new TallyError('unauthenticated');
  cache.set(keyId, { principal, hash: stored, until: Date.now() + 10_000 });
  return principal;
}

export async function revokeApiKey(
  db: Kysely<Schema>,
  merchantId: string,
  keyId: string,
  now: Date,
): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: iso(now) })
    .where('id', '=', keyId)
    .where('merchant_id', '=', merchantId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  const changed = Number(result.numUpdatedRows) === 1;
  // Only a key this merchant really revoked: another merchant's key id must not be locked out.
  if (changed) revoked.add(keyId);
  cache.delete(keyId);
  return changed;
}

export async function listApiKeys(db: Kysely<Schema>, merchantId: string) {
  const rows = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    object: 'api_key' as const,
    name: r.name,
    scopes: JSON.parse(r.scopes) as string[],
    created_at: toDate(r.created_at).toISOString(),
    revoked_at: toDateOrNull(r.revoked_at)?.toISOString() ?? null,
  }));
}
