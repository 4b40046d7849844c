/**
 * Migration 0018 keeps one free-address index per database, the one its planner uses (decision
 * 0019): `wallet_addresses_free` on SQLite, the partial `wallet_addresses_free_only` on PostgreSQL.
 * On a pool shaped like a long-lived wallet's (most addresses handed out, a pool target's worth
 * free), before and after ANALYZE, every free-address read is an index search, never a scan of the
 * pool; and the dropped index is gone, so claims no longer maintain it.
 */
import SQLite from 'better-sqlite3';
import { type CompiledQuery, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { freeCountQuery } from '../../src/wallets/address-pool.ts';
import { freeAddressesQuery } from '../../src/wallets/address-reservations.ts';
import { DATABASES, useMigratedDatabase } from '../helpers/databases.ts';

const WALLET = 'wal_plans';
const POOL = 22_000;
const CLAIMED = 20_000;
const KEPT = { sqlite: 'wallet_addresses_free', postgres: 'wallet_addresses_free_only' } as const;
const DROPPED = { sqlite: 'wallet_addresses_free_only', postgres: 'wallet_addresses_free' } as const;

describe.each(DATABASES)('free-address reads on $name', ({ name, fresh }) => {
  const handle = useMigratedDatabase(fresh, 'all');

  const plan = async (query: CompiledQuery): Promise<string> => {
    if (name === 'sqlite') {
      const connection = new SQLite(handle.testDb.url, { readonly: true });
      try {
        const steps = connection
          .prepare(`explain query plan ${query.sql}`)
          .all(...query.parameters) as Array<{
          detail: string;
        }>;
        return steps.map((s) => s.detail).join('; ');
      } finally {
        connection.close();
      }
    }
    const explained = await handle.database.db.executeQuery<{ 'QUERY PLAN': string }>({
      ...query,
      sql: `explain ${query.sql}`,
    });
    return explained.rows.map((r) => r['QUERY PLAN']).join('; ');
  };

  const reads = (): Array<[string, CompiledQuery]> => [
    [
      'the reservation cache, windowed',
      freeAddressesQuery(handle.database.read, WALLET, 600, CLAIMED, CLAIMED + 2_400).compile(),
    ],
    [
      'the reservation cache, unbounded',
      freeAddressesQuery(handle.database.read, WALLET, 600, CLAIMED, null).compile(),
    ],
    ['the pool count', freeCountQuery(handle.database.read, WALLET).compile()],
    [
      // The free rows the allocator's claim (claim-free-addresses.ts) locks, as its subquery reads them.
      "the allocator's claim",
      sql`select derivation_index from wallet_addresses where wallet_id = ${WALLET} and option_id is null
        order by derivation_index limit ${5}`.compile(handle.database.read),
    ],
  ];

  it('fills a pool with some addresses claimed', async () => {
    const db = handle.database.db;
    await db
      .insertInto('merchants')
      .values({ id: 'mer_plans', name: 'Plans', policy: '{}', created_at: '2026-11-22T00:00:00.000Z' })
      .execute();
    await db
      .insertInto('wallets')
      .values({
        id: WALLET,
        merchant_id: 'mer_plans',
        scope: 'bitcoin-regtest',
        family: 'bitcoin',
        xpub: 'tpub-plans',
        script_type: 'p2wpkh',
        next_index: POOL,
        pool_target: POOL,
        created_at: '2026-11-22T00:00:00.000Z',
      } as never)
      .execute();
    for (let start = 0; start < POOL; start += 1_000) {
      const rows = Array.from({ length: 1_000 }, (_, i) => {
        const index = start + i;
        return {
          wallet_id: WALLET,
          derivation_index: index,
          address: `bcrt1q${index.toString(36).padStart(12, '0')}`,
          option_id: index < CLAIMED ? `opt_${index}` : null,
          allocated_at: index < CLAIMED ? '2026-11-22T00:00:00.000Z' : null,
        };
      });
      await db.insertInto('wallet_addresses').values(rows).execute();
    }
    const free = await freeCountQuery(db, WALLET).executeTakeFirstOrThrow();
    expect(Number(free.n)).toBe(POOL - CLAIMED);
  });

  it(`reads free addresses through ${KEPT[name]}, before and after ANALYZE`, async () => {
    for (const analyzed of [false, true]) {
      if (analyzed) await sql`analyze`.execute(handle.database.db);
      for (const [what, query] of reads()) {
        const detail = await plan(query);
        const label = `${what}${analyzed ? ' (analyzed)' : ''}: ${detail}`;
        // An index search. On SQLite the windowed read may instead take the primary key's range,
        // bounded by the window: (wallet_id=? AND derivation_index>? AND derivation_index<?).
        expect(detail, label).toMatch(
          name === 'sqlite'
            ? what.endsWith('windowed')
              ? /SEARCH wallet_addresses USING INDEX (wallet_addresses_free \(wallet_id=\? AND option_id=\? AND derivation_index>\? AND derivation_index<\?\)|sqlite_autoindex_wallet_addresses_2 \(wallet_id=\? AND derivation_index>\? AND derivation_index<\?\))/
              : /SEARCH wallet_addresses USING (COVERING )?INDEX wallet_addresses_free \(wallet_id=\? AND option_id=\?/
            : /(Index (Only )?Scan using|Bitmap Index Scan on) wallet_addresses_free_only/,
        );
        expect(detail, label).not.toMatch(/SCAN wallet_addresses(?! USING)|Seq Scan|Sort|TEMP B-TREE/);
      }
    }
  });

  it(`has no ${DROPPED[name]} to maintain on each claim`, async () => {
    const indexes =
      name === 'sqlite'
        ? sql<{
            name: string;
          }>`select name from sqlite_master where type = 'index' and tbl_name = 'wallet_addresses'`
        : sql<{
            name: string;
          }>`select indexname as name from pg_indexes where tablename = 'wallet_addresses'`;
    const names = (await indexes.execute(handle.database.read)).rows.map((r) => r.name);
    expect(names).toContain(KEPT[name]);
    expect(names).not.toContain(DROPPED[name]);
  });
});
