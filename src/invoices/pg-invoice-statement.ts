import { type Insertable, type RawBuilder, sql } from 'kysely';
import type { Database } from '../db/connect.ts';
import { pgJsonInsert } from '../db/pg-json-insert.ts';
import type { IdempotencyKeysTable } from '../db/schema.ts';
import { iso } from '../db/values.ts';
import { type EffectRows, pgEffectCtes } from './effect-rows.ts';

/** The addresses a batch chose for one wallet, to claim in its statement. */
export interface WalletClaims {
  walletId: string;
  claims: ReadonlyArray<{ index: number; optionId: string }>;
}

/**
 * A whole batch of new invoices as ONE PostgreSQL statement, run in autocommit: the address claims,
 * every row, the re-armed jobs and the idempotent responses, as data-modifying CTEs. One statement
 * is atomic on its own, so there is no BEGIN or COMMIT to send: one round trip per batch instead of
 * four, and each round trip on a shared 2-core machine also meant handing the CPU to the server
 * and back (decision 0013).
 *
 * Each claim must find its address still free (no option id; re-checked against concurrent commits
 * under READ COMMITTED). Written `coalesce(option_id, '') = ''` rather than `option_id is null` (the
 * same thing: option ids are never empty) so that the planner cannot pick the partial free-address
 * index: on stale statistics it scanned all of it, 25 ms for two rows, instead of two primary-key
 * lookups (0.6 ms). The statement's result divides by zero unless every claim matched,
 * which aborts it whole: nothing is written, and the caller sends the batch the ordinary way.
 * Returns false in that case (or on a deadlock with another process's claims, or for a batch too
 * large for one statement): nothing was written. True once committed.
 *
 * Its text depends only on the number of wallets and on which kinds of rows the batch has (each
 * table's rows are one JSON parameter), so it runs as a named prepared statement, planned once per
 * connection (decision 0020).
 */
export async function writeInvoiceStatement(
  database: Database,
  wallets: readonly WalletClaims[],
  rows: EffectRows,
  responses: readonly Insertable<IdempotencyKeysTable>[],
  now: Date,
): Promise<boolean> {
  const db = database.db;
  const ctes: RawBuilder<unknown>[] = [];
  const claimCounts: RawBuilder<unknown>[] = [];
  let expected = 0;
  for (const [i, wallet] of wallets.entries()) {
    const name = sql.ref(`claim_${i}`);
    ctes.push(sql`${name} as (
      update wallet_addresses set option_id = c.option_id, allocated_at = ${iso(now)}
      from unnest(${wallet.claims.map((c) => c.optionId)}::text[], ${wallet.claims.map((c) => c.index)}::integer[])
        as c(option_id, idx)
      where wallet_addresses.wallet_id = ${wallet.walletId}
        and wallet_addresses.derivation_index = c.idx
        and coalesce(wallet_addresses.option_id, '') = ''
      returning 1)`);
    claimCounts.push(sql`(select count(*) from ${name})`);
    expected += wallet.claims.length;
  }
  ctes.push(...pgEffectCtes(db, rows));
  if (responses.length > 0)
    ctes.push(
      sql`responses as (${pgJsonInsert('idempotency_keys', responses) ?? db.insertInto('idempotency_keys').values([...responses])})`,
    );
  const claimed = claimCounts.length > 0 ? sql.join(claimCounts, sql` + `) : sql`0`;
  // Not a constant: PostgreSQL would fold `1/0` at plan time even in a branch never taken.
  const guard = sql`1 / (case when ${claimed} = ${expected} then 1 else 0 end)`;
  const statement = sql`with ${sql.join(ctes)} select ${guard} as claimed_all`.compile(db);
  // PostgreSQL binds at most 65,535 parameters; a batch that needs more goes the ordinary way
  // (insertEffects splits it). 128 invoices with ten options each need ~28,500.
  if (statement.parameters.length > MAX_PARAMETERS) return false;
  try {
    if (database.executePrepared) await database.executePrepared(statement);
    else await db.executeQuery(statement);
    return true;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === DIVISION_BY_ZERO || code === DEADLOCK) return false;
    throw error;
  }
}

const MAX_PARAMETERS = 60_000;
const DIVISION_BY_ZERO = '22012';
const DEADLOCK = '40P01';
