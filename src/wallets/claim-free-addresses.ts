import { sql, type Transaction } from 'kysely';
import type { DialectName } from '../db/connect.ts';
import type { Schema } from '../db/schema.ts';
import { iso } from '../db/values.ts';
import type { Allocation } from './allocator.ts';

/**
 * Claims up to `optionIds.length` of the wallet's lowest free pre-derived addresses, in index order,
 * one per option id. Returns fewer when the pool holds fewer. Each row's option_id is set once:
 * on PostgreSQL the rows are locked with SKIP LOCKED (concurrent creations take different rows);
 * SQLite has one writer at a time.
 */
export async function claimFreeAddresses(
  trx: Transaction<Schema>,
  dialect: DialectName,
  walletId: string,
  optionIds: readonly string[],
  now: Date,
): Promise<Allocation[]> {
  if (optionIds.length === 0) return [];
  // The i-th claimed row (in index order) takes the i-th option id. SQLite has no arrays, so
  // there the ids go as one JSON array.
  const postgres = dialect === 'postgres';
  const optionIdOf = postgres
    ? sql`(${[...optionIds]}::text[])[free.n]`
    : sql`json_extract(${JSON.stringify(optionIds)}, '$[' || (free.n - 1) || ']')`;
  const lock = postgres ? sql`for update skip locked` : sql``;
  // One statement (UPDATE … FROM … RETURNING on both databases): each statement is a round trip
  // (PostgreSQL) or a hop to the writer thread (SQLite). The update joins on the primary key:
  // PostgreSQL, on stale statistics, chose the partial free-address index for an `option_id is
  // null` update and scanned it whole (22 ms with 29,000 free rows).
  const result = await sql<{ derivation_index: number; address: string; option_id: string }>`
    with free as (
      select derivation_index, row_number() over (order by derivation_index) as n
      from (
        select derivation_index from wallet_addresses
        where wallet_id = ${walletId} and option_id is null
        order by derivation_index limit ${optionIds.length}
        ${lock}
      ) as locked
    )
    update wallet_addresses
    set option_id = ${optionIdOf}, allocated_at = ${iso(now)}
    from free
    where wallet_addresses.wallet_id = ${walletId}
      and wallet_addresses.derivation_index = free.derivation_index
    returning wallet_addresses.derivation_index, wallet_addresses.address, wallet_addresses.option_id`.execute(
    trx,
  );
  return result.rows
    .map((row) => ({ index: row.derivation_index, address: row.address, optionId: row.option_id }))
    .sort((a, b) => a.index - b.index);
}
