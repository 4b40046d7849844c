import { getMerchant, type Merchant } from '../auth/merchants.ts';
import type { Tally } from '../context.ts';

/** What invoice creation reads about a merchant: its policy and its wallets' immutable keys. */
export interface CreationContext {
  merchant: Merchant;
  wallets: ReadonlyArray<{ id: string; scope: string; xpub: string; script_type: string }>;
}

/**
 * Every invoice creation read the merchant and its wallets: two queries per request that, under
 * load on PostgreSQL, each waited 1.5–3 ms for a pool connection (bench profile, 50 connections).
 * Both change rarely, so they are kept for a short time. A change made in this process (policy
 * update, wallet added) is seen at once; one made by another process within TTL_MS. A wallet's key
 * and script type never change and wallets are never removed, so a cached wallet cannot be wrong —
 * and a requested scope missing from the cache reloads before being refused.
 */
const TTL_MS = 2_000;

interface Entry {
  context: CreationContext;
  until: number;
}

interface Cache {
  entries: Map<string, Entry>;
  /** Bumped by forgetCreationContext: a load that began before a change must not be stored. */
  generations: Map<string, number>;
}

const caches = new WeakMap<Tally, Cache>();

function cacheOf(tally: Tally): Cache {
  let cache = caches.get(tally);
  if (!cache) {
    cache = { entries: new Map(), generations: new Map() };
    caches.set(tally, cache);
  }
  return cache;
}

export async function creationContext(
  tally: Tally,
  merchantId: string,
  needScopes: readonly string[] = [],
): Promise<CreationContext> {
  const cache = cacheOf(tally);
  const cached = cache.entries.get(merchantId);
  if (
    cached &&
    cached.until > Date.now() &&
    needScopes.every((scope) => cached.context.wallets.some((w) => w.scope === scope))
  ) {
    return cached.context;
  }
  const generation = cache.generations.get(merchantId) ?? 0;
  const merchant = await getMerchant(tally.database.read, merchantId);
  const wallets = await tally.database.read
    .selectFrom('wallets')
    .select(['id', 'scope', 'xpub', 'script_type'])
    .where('merchant_id', '=', merchantId)
    .execute();
  // Frozen: every creation shares it, so a caller adjusting what it read would change the next
  // invoices too (it happened: a request's expires_in_seconds leaked into the policy). Now it throws.
  const context = deepFreeze({ merchant, wallets });
  if ((cache.generations.get(merchantId) ?? 0) === generation) {
    cache.entries.set(merchantId, { context, until: Date.now() + TTL_MS });
  }
  return context;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** Called after a merchant's policy or wallets change in this process. */
export function forgetCreationContext(tally: Tally, merchantId: string): void {
  const cache = cacheOf(tally);
  cache.entries.delete(merchantId);
  cache.generations.set(merchantId, (cache.generations.get(merchantId) ?? 0) + 1);
}
