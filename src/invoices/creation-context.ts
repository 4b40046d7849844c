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

const contexts = new WeakMap<Tally, Map<string, { context: CreationContext; until: number }>>();

export async function creationContext(
  tally: Tally,
  merchantId: string,
  needScopes: readonly string[] = [],
): Promise<CreationContext> {
  let byMerchant = contexts.get(tally);
  if (!byMerchant) {
    byMerchant = new Map();
    contexts.set(tally, byMerchant);
  }
  const cached = byMerchant.get(merchantId);
  if (
    cached &&
    cached.until > Date.now() &&
    needScopes.every((scope) => cached.context.wallets.some((w) => w.scope === scope))
  ) {
    return cached.context;
  }
  const merchant = await getMerchant(tally.database.read, merchantId);
  const wallets = await tally.database.read
    .selectFrom('wallets')
    .select(['id', 'scope', 'xpub', 'script_type'])
    .where('merchant_id', '=', merchantId)
    .execute();
  const context = { merchant, wallets };
  byMerchant.set(merchantId, { context, until: Date.now() + TTL_MS });
  return context;
}

/** Called after a merchant's policy or wallets change in this process. */
export function forgetCreationContext(tally: Tally, merchantId: string): void {
  contexts.get(tally)?.delete(merchantId);
}
