/**
 * Migration 0015 gives each invoice its clock (decision 0016). Invoices written before it take
 * their clock from their pending, running or failed per-invoice job; the pending and running jobs
 * go, failed and done ones stay. On SQLite, where Kysely runs a migration outside a transaction,
 * running it again after a crash part way changes nothing. The sweep's query uses the new index.
 */
import { type Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrate.ts';
import { SQLITE_TYPES } from '../../src/db/migrations/column-types.ts';
import { MIGRATIONS } from '../../src/db/migrations/index.ts';
import type { Schema } from '../../src/db/schema.ts';
import { toDate } from '../../src/db/values.ts';
import { DATABASES, freshPostgres, freshSqlite, type TestDatabase } from '../helpers/databases.ts';
import { migrateThrough } from '../helpers/migrate-through.ts';

const CREATED = '2026-11-01T10:00:00.000Z';

/** Each case: the invoice's legacy jobs (kind, status, run_at), and the clock it must get. */
const CASES = [
  {
    id: 'inv_pending',
    jobs: [['invoice.expire', 'pending', '2026-11-01T10:15:00.000Z']],
    clock: ['expiry_due', '2026-11-01T10:15:00.000Z'],
  },
  {
    id: 'inv_running',
    jobs: [['invoice.expire', 'running', '2026-11-01T10:16:00.000Z']],
    clock: ['expiry_due', '2026-11-01T10:16:00.000Z'],
  },
  {
    id: 'inv_failed',
    jobs: [['invoice.expire', 'failed', '2026-11-01T10:17:00.000Z']],
    clock: ['expiry_due', '2026-11-01T10:17:00.000Z'],
  },
  {
    id: 'inv_window',
    jobs: [
      ['invoice.expire', 'done', '2026-11-01T10:15:00.000Z'],
      ['invoice.window_close', 'pending', '2026-11-02T10:15:00.000Z'],
    ],
    clock: ['window_closed', '2026-11-02T10:15:00.000Z'],
  },
  {
    id: 'inv_finished',
    jobs: [
      ['invoice.expire', 'done', '2026-11-01T10:15:00.000Z'],
      ['invoice.window_close', 'done', '2026-11-02T10:15:00.000Z'],
    ],
    clock: [null, null],
  },
] as const;

/** Rows as a gateway from before 0015 wrote them. */
async function legacyRows(database: Database): Promise<void> {
  await sql`insert into merchants (id, name, policy, created_at) values ('mer_1', 'm', '{}', ${CREATED})`.execute(
    database.db,
  );
  for (const c of CASES) {
    await sql`insert into invoices (id, merchant_id, status, merchant_order_id, customer_id, description,
        price_amount, price_currency, metadata, success_url, cancel_url, expires_at, policy,
        selected_option_id, refunded_amount, manually_paid, sequence, version, fulfilled_at, fulfilment,
        created_at, updated_at)
      values (${c.id}, 'mer_1', 'awaiting_payment', null, null, null, '1', 'USD', '{}', null, null,
        ${'2026-11-01T10:15:00.000Z'}, '{}', null, '0', 0, 1, 1, null, null, ${CREATED}, ${CREATED})`.execute(
      database.db,
    );
    for (const [kind, status, runAt] of c.jobs) {
      const key = `${kind === 'invoice.expire' ? 'expire' : 'window'}:${c.id}`;
      await sql`insert into jobs (id, kind, dedupe_key, payload, run_at, status, attempts, locked_by,
          locked_until, last_error, created_at, updated_at)
        values (${`job_${key}`}, ${kind}, ${key}, ${JSON.stringify({ merchantId: 'mer_1', invoiceId: c.id })},
          ${runAt}, ${status}, 1, null, null, null, ${CREATED}, ${CREATED})`.execute(database.db);
    }
  }
}

async function migratedWithLegacyRows(
  fresh: () => Promise<TestDatabase>,
  before: (db: Kysely<Schema>) => Promise<unknown> = async () => {},
) {
  const testDb = await fresh();
  const database = openDatabase({ url: testDb.url });
  await migrateThrough(database, '0014_drop_events_merchant_index');
  await legacyRows(database);
  await before(database.db);
  expect(await migrate(database)).toContain('0015_invoice_clock');
  return { testDb, database };
}

async function clocks(database: Database) {
  const rows = await database.db
    .selectFrom('invoices')
    .select(['id', 'clock_fact', 'clock_at'])
    .orderBy('id')
    .execute();
  return Object.fromEntries(
    rows.map((r) => [r.id, [r.clock_fact, r.clock_at === null ? null : toDate(r.clock_at).toISOString()]]),
  );
}

describe.each(DATABASES)('migration 0015 (the invoice clock) on $name', ({ fresh }) => {
  let testDb: TestDatabase;
  let database: Database;
  beforeEach(async () => {
    ({ testDb, database } = await migratedWithLegacyRows(fresh));
  });
  afterEach(async () => {
    await database?.close();
    await testDb?.drop();
  });

  it("takes each invoice's clock from its unfinished job, and deletes only pending and running jobs", async () => {
    expect(await clocks(database)).toEqual(Object.fromEntries(CASES.map((c) => [c.id, [...c.clock]])));
    const jobs = await database.db
      .selectFrom('jobs')
      .select(['dedupe_key', 'status'])
      .orderBy('dedupe_key')
      .execute();
    expect(jobs).toEqual([
      { dedupe_key: 'expire:inv_failed', status: 'failed' },
      { dedupe_key: 'expire:inv_finished', status: 'done' },
      { dedupe_key: 'expire:inv_window', status: 'done' },
      { dedupe_key: 'window:inv_finished', status: 'done' },
    ]);
  });
});

describe('migration 0015 on sqlite', () => {
  let testDb: TestDatabase;
  let database: Database;
  beforeEach(async () => {
    ({ testDb, database } = await migratedWithLegacyRows(freshSqlite));
  });
  afterEach(async () => {
    await database?.close();
    await testDb?.drop();
  });

  it('run again, as after a crash part way, changes nothing', async () => {
    const before = await clocks(database);
    const m = MIGRATIONS['0015_invoice_clock'];
    await m?.up(database.db as unknown as Kysely<unknown>, SQLITE_TYPES);
    expect(await clocks(database)).toEqual(before);
  });

  it("the sweep's query reads the partial index", async () => {
    const plan = await sql<{ detail: string }>`explain query plan
      select id from invoices where clock_at <= ${'2026-11-03T00:00:00.000Z'} order by clock_at, id limit 200`.execute(
      database.db,
    );
    expect(plan.rows.map((r) => r.detail).join(' | ')).toMatch(/USING (COVERING )?INDEX invoices_clock/);
  });
});

describe('migration 0015 on postgres', () => {
  it('keeps a backfilled clock to whole milliseconds, as the gateway writes it', async () => {
    // A job's run_at set by hand (`now()`) carries microseconds.
    const { testDb, database } = await migratedWithLegacyRows(freshPostgres, (db) =>
      sql`update jobs set run_at = ${'2026-11-01T10:15:00.123456Z'} where dedupe_key = 'expire:inv_pending'`.execute(
        db,
      ),
    );
    try {
      const row = await sql<{
        exact: boolean;
      }>`select clock_at = ${'2026-11-01T10:15:00.123Z'}::timestamptz as exact
        from invoices where id = 'inv_pending'`.execute(database.db);
      expect(row.rows).toEqual([{ exact: true }]);
    } finally {
      await database.close();
      await testDb.drop();
    }
  });
});
