import type { Transaction } from 'kysely';
import type { DialectName } from '../db/connect.ts';
import type { Schema } from '../db/schema.ts';
import { iso } from '../db/values.ts';

export interface Allocation {
  index: number;
  address: string;
}

/**
 * Hands out the lowest free pre-derived address of a wallet, or derives the next index inline
 * when the pool is empty. Never twice: a row's option_id is set once under a row lock (SKIP LOCKED
 * on PostgreSQL, so concurrent creations take different rows instead of queueing on one counter),
 * and inline derivation bumps the wallet's next_index atomically. A rolled-back creation returns
 * its row to the pool, which is safe because the address was never shown to anyone.
 */
export async function allocateAddress(
  trx: Transaction<Schema>,
  dialect: DialectName,
  walletId: string,
  optionId: string,
  now: Date,
  derive: (index: number) => string,
): Promise<Allocation> {
  let query = trx
    .selectFrom('wallet_addresses')
    .select(['derivation_index', 'address'])
    .where('wallet_id', '=', walletId)
    .where('option_id', 'is', null)
    .orderBy('derivation_index')
    .limit(1);
  if (dialect === 'postgres') query = query.forUpdate().skipLocked();
  const free = await query.executeTakeFirst();
  if (free) {
    const claimed = await trx
      .updateTable('wallet_addresses')
      .set({ option_id: optionId, allocated_at: iso(now) })
      .where('wallet_id', '=', walletId)
      .where('derivation_index', '=', free.derivation_index)
      .where('option_id', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 1) return { index: free.derivation_index, address: free.address };
  }
  if (dialect === 'postgres') {
    // The counter's row lock is held until commit, and one creation allocates from several wallets
    // in the order its options are listed: two creations listing them in opposite orders would
    // deadlock. Lock all of the merchant's wallets in one fixed order before taking any counter.
    await trx
      .selectFrom('wallets')
      .select('id')
      .where('merchant_id', '=', (eb) =>
        eb.selectFrom('wallets as owner').select('owner.merchant_id').where('owner.id', '=', walletId),
      )
      .orderBy('id')
      .forNoKeyUpdate() // the strength of the counter update itself: inserts referencing a wallet still pass
      .execute();
  }
  const [index] = await reserveIndexes(trx, walletId, 1);
  if (index === undefined) throw new Error('no index reserved');
  const address = derive(index);
  await trx
    .insertInto('wallet_addresses')
    .values({
      wallet_id: walletId,
      derivation_index: index,
      address,
      option_id: optionId,
      allocated_at: iso(now),
    })
    .execute();
  return { index, address };
}

/** Atomically takes `count` fresh indexes from the wallet's counter. */
export async function reserveIndexes(
  trx: Transaction<Schema>,
  walletId: string,
  count: number,
): Promise<number[]> {
  const row = await trx
    .updateTable('wallets')
    .set((eb) => ({ next_index: eb('next_index', '+', count) }))
    .where('id', '=', walletId)
    .returning('next_index')
    .executeTakeFirstOrThrow();
  const end = row.next_index;
  return Array.from({ length: count }, (_, i) => end - count + i);
}
