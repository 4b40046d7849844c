import type { Kysely } from 'kysely';
import type { ColumnTypes } from './column-types.ts';

/**
 * Each database keeps the one free-address index its planner uses, and stops maintaining the other
 * on every address claim (decision 0019).
 *
 * 0002 added `wallet_addresses_free_only` (partial, free rows only) beside 0001's composite
 * `wallet_addresses_free` (wallet_id, option_id, derivation_index), because the two planners chose
 * differently: PostgreSQL the partial one, SQLite the composite. Both were kept, so every claim —
 * one per new invoice — also moved an entry in an index its database never reads: on SQLite,
 * removing the address from the partial index; on PostgreSQL, where a claim is not a HOT update
 * (`option_id` is indexed), inserting the new row version into the composite one.
 *
 * Checked with EXPLAIN on a filled pool, before and after ANALYZE: every free-address read (the
 * reservation cache's, the allocator's claim, the pool's count) is an index search, through
 * `wallet_addresses_free` (or the primary key's range) on SQLite and `wallet_addresses_free_only`
 * on PostgreSQL. No other query filters on `option_id is null`.
 * `test/wallets/free-address-plans.test.ts` keeps it so.
 */
export async function up(db: Kysely<unknown>, types: ColumnTypes): Promise<void> {
  // The column types tell the dialect: PostgreSQL's time type is timestamptz, SQLite's text.
  const postgres = types.time !== 'text';
  await db.schema
    .dropIndex(postgres ? 'wallet_addresses_free' : 'wallet_addresses_free_only')
    .ifExists()
    .execute();
}
