import type { Kysely } from 'kysely';
import type { Database } from '../db/connect.ts';
import type { Schema } from '../db/schema.ts';
import { reserveIndexes } from './allocator.ts';
import { addressDeriver } from './families.ts';

const derivers = new Map<string, (index: number) => string>();

/**
 * Derivation is CPU work; keep one deriver (with its cached chain node) per wallet. A wallet's key
 * and script type never change after it is added, so the cache cannot go stale.
 */
export function deriverFor(wallet: {
  id: string;
  scope: string;
  xpub: string;
  script_type: string;
}): (index: number) => string {
  let derive = derivers.get(wallet.id);
  if (!derive) {
    derive = addressDeriver(wallet.scope, wallet.xpub, wallet.script_type);
    derivers.set(wallet.id, derive);
  }
  return derive;
}

/**
 * Tops the wallet's pool of pre-derived, unallocated addresses up to its target, in chunks so the
 * event loop is never held for long. Keeps derivation off the invoice-creation path.
 * Returns how many addresses were added.
 */
export async function topUpAddressPool(database: Database, walletId: string, chunk = 50): Promise<number> {
  const wallet = await database.db
    .selectFrom('wallets')
    .selectAll()
    .where('id', '=', walletId)
    .executeTakeFirst();
  if (!wallet) return 0;
  const derive = deriverFor(wallet);
  let added = 0;
  for (;;) {
    const free = await freeCountQuery(database.db, walletId).executeTakeFirstOrThrow();
    const missing = wallet.pool_target - Number(free.n);
    if (missing <= 0) return added;
    const count = Math.min(missing, chunk);
    await database.write(async (trx) => {
      const indexes = await reserveIndexes(trx, walletId, count);
      await trx
        .insertInto('wallet_addresses')
        .values(
          indexes.map((i) => ({
            wallet_id: walletId,
            derivation_index: i,
            address: derive(i),
            option_id: null,
            allocated_at: null,
          })),
        )
        .execute();
    });
    added += count;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** How many of the wallet's addresses are free. */
export function freeCountQuery(db: Kysely<Schema>, walletId: string) {
  return db
    .selectFrom('wallet_addresses')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('wallet_id', '=', walletId)
    .where('option_id', 'is', null);
}
