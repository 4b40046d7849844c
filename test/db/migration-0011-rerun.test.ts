/**
 * Migration 0011 rebuilds settlement_movements. Kysely runs SQLite migrations outside a
 * transaction, so a crash part way leaves the database between steps; the migration must then
 * finish on the next start instead of failing, without losing a movement. Each case stops a real
 * 0011 at a different step (the steps replayed by hand), then runs every pending migration.
 */
import { type Kysely, type Migration, Migrator, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrate.ts';
import { SQLITE_TYPES } from '../../src/db/migrations/column-types.ts';
import { MIGRATIONS } from '../../src/db/migrations/index.ts';
import { freshSqlite, type TestDatabase } from '../helpers/databases.ts';

/** The database as it was before 0011, with one movement in it. */
async function before0011(database: Database): Promise<void> {
  const names = Object.keys(MIGRATIONS);
  const upTo = names.slice(0, names.indexOf('0011_movement_reversal'));
  const migrations: Record<string, Migration> = {};
  for (const name of upTo) {
    const m = MIGRATIONS[name];
    if (m) migrations[name] = { up: (db: Kysely<unknown>) => m.up(db, SQLITE_TYPES) };
  }
  const migrator = new Migrator({ db: database.db, provider: { getMigrations: async () => migrations } });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
  await sql`insert into settlement_movements
      (id, merchant_id, network, asset, txid, block_hash, block_height, inputs_value, refunded, swept,
       fee, outputs, refund_id, batch_id, seen_at)
    values ('mov_1', 'mer_1', 'polygon', 'USDC', '0xabc', '0xb1', 7, '5', '0', '5', '0', '[]', null,
       null, '2026-11-22T00:00:00.000Z')`.execute(database.db);
}

const COPY = sql`create table settlement_movements_next (id text primary key, merchant_id text not null,
    network text not null, asset text not null, txid text not null, log_index integer not null default -1,
    block_hash text, block_height integer, inputs_value text not null, refunded text not null,
    swept text not null, fee text not null, outputs text not null, refund_id text, batch_id text,
    seen_at text not null, removed integer not null default 0, removed_at text)`;
const FILL = sql`insert into settlement_movements_next
      (id, merchant_id, network, asset, txid, block_hash, block_height, inputs_value, refunded, swept,
       fee, outputs, refund_id, batch_id, seen_at)
    select id, merchant_id, network, asset, txid, block_hash, block_height, inputs_value, refunded,
       swept, fee, outputs, refund_id, batch_id, seen_at from settlement_movements`;

const CRASHES: Array<{ at: string; steps: Array<typeof COPY> }> = [
  { at: 'after creating the copy, before filling it', steps: [COPY] },
  { at: 'after filling the copy', steps: [COPY, FILL] },
  {
    at: 'after dropping the old table, before the rename',
    steps: [COPY, FILL, sql`drop table settlement_movements`],
  },
  {
    at: 'after the rename, before the indexes',
    steps: [
      COPY,
      FILL,
      sql`drop table settlement_movements`,
      sql`alter table settlement_movements_next rename to settlement_movements`,
      sql`create unique index settlement_movements_live on settlement_movements (network, txid, log_index, merchant_id) where removed = 0`,
    ],
  },
  {
    at: 'after dropping the old ledger index, before its replacement',
    steps: [
      COPY,
      FILL,
      sql`drop table settlement_movements`,
      sql`alter table settlement_movements_next rename to settlement_movements`,
      sql`create unique index settlement_movements_live on settlement_movements (network, txid, log_index, merchant_id) where removed = 0`,
      sql`create index settlement_movements_unbatched on settlement_movements (merchant_id, batch_id, seen_at)`,
      sql`create index settlement_movements_block on settlement_movements (network, block_hash)`,
      sql`create index settlement_movements_refund on settlement_movements (refund_id)`,
      sql`drop index ledger_transactions_movement`,
    ],
  },
];

describe('migration 0011 re-run after a crash on SQLite', () => {
  let testDb: TestDatabase;
  let database: Database;
  afterEach(async () => {
    await database?.close();
    await testDb?.drop();
  });

  it.each(CRASHES)('finishes when it stopped $at, keeping the movement', async ({ steps }) => {
    testDb = await freshSqlite();
    database = openDatabase({ url: testDb.url });
    await before0011(database);
    for (const step of steps) await step.execute(database.db);

    const applied = await migrate(database);
    expect(applied[0]).toBe('0011_movement_reversal');
    const rows = await sql<{ id: string; log_index: number; removed: number; swept: string }>`
      select id, log_index, removed, swept from settlement_movements`.execute(database.db);
    expect(rows.rows).toEqual([{ id: 'mov_1', log_index: -1, removed: 0, swept: '5' }]);
    const tables = (await database.db.introspection.getTables()).map((t) => t.name);
    expect(tables).not.toContain('settlement_movements_next');
    const indexes = await sql<{ name: string }>`
      select name from sqlite_master where type = 'index' and name not like 'sqlite_autoindex%'
        and tbl_name in ('settlement_movements', 'ledger_transactions') order by name`.execute(database.db);
    expect(indexes.rows.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        'ledger_transactions_movement_kind',
        'settlement_movements_block',
        'settlement_movements_live',
        'settlement_movements_refund',
        'settlement_movements_unbatched',
      ]),
    );
    expect(indexes.rows.map((r) => r.name)).not.toContain('ledger_transactions_movement');
    // The live uniqueness holds: the same movement twice while live is refused.
    await expect(
      sql`insert into settlement_movements select 'mov_2', merchant_id, network, asset, txid, log_index,
          block_hash, block_height, inputs_value, refunded, swept, fee, outputs, refund_id, batch_id,
          seen_at, removed, removed_at from settlement_movements where id = 'mov_1'`.execute(database.db),
    ).rejects.toThrow();
  });
});
