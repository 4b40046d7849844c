/**
 * Migrations are forward-only and idempotent, and amount columns hold any uint256 exactly:
 * NUMERIC(78,0) in PostgreSQL, text in SQLite, read back as strings and turned into bigint.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BASE_UNITS, unitsFromDb } from '../../src/core/money.ts';
import { type Database, openDatabase } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrate.ts';
import { MIGRATIONS } from '../../src/db/migrations/index.ts';
import { applyFact } from '../../src/invoices/apply-fact.ts';
import { createInvoice } from '../../src/invoices/create-invoice.ts';
import { loadInvoice } from '../../src/invoices/invoice-store.ts';
import { DATABASES, freshPostgres, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

const MAX = 2n ** 256n - 1n;
/** 2^256-1 wei written as ETH. */
const MAX_ETH = '115792089237316195423570985008687907853269984665640564039457.584007913129639935';

const AMOUNT_COLUMNS: Array<[string, string]> = [
  ['invoices', 'price_amount'],
  ['invoices', 'refunded_amount'],
  ['payment_options', 'amount_due'],
  ['payments', 'amount'],
];

async function tableNames(database: Database): Promise<string[]> {
  const tables = await database.db.introspection.getTables();
  return tables.map((t) => t.name).sort();
}

describe.each(DATABASES)('migrations on $name', ({ name, fresh }) => {
  let testDb: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    testDb = await fresh();
    database = openDatabase({ url: testDb.url });
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  it('applies every migration once; a second run is a no-op', async () => {
    expect(await migrate(database)).toEqual(Object.keys(MIGRATIONS));
    const tablesAfterFirst = await tableNames(database);
    expect(tablesAfterFirst).toEqual(
      expect.arrayContaining([
        'invoices',
        'payment_options',
        'payments',
        'wallet_addresses',
        'jobs',
        'events',
      ]),
    );
    const recorded = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
      database.db,
    );
    expect(recorded.rows.map((r) => r.name)).toEqual(Object.keys(MIGRATIONS));

    expect(await migrate(database)).toEqual([]);
    expect(await tableNames(database)).toEqual(tablesAfterFirst);
    const again = await sql<{ name: string }>`select name from kysely_migration`.execute(database.db);
    expect(again.rows).toHaveLength(Object.keys(MIGRATIONS).length);
  });

  it('a second connection pool migrating the same database also finds nothing to do', async () => {
    const other = openDatabase({ url: testDb.url });
    try {
      expect(await migrate(other)).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it(`stores amounts as ${name === 'postgres' ? 'NUMERIC(78,0)' : 'text'}`, async () => {
    for (const [table, column] of AMOUNT_COLUMNS) {
      if (name === 'postgres') {
        const info = await sql<{
          data_type: string;
          numeric_precision: number;
          numeric_scale: number;
        }>`select data_type, numeric_precision, numeric_scale from information_schema.columns
           where table_schema = current_schema() and table_name = ${table} and column_name = ${column}`.execute(
          database.db,
        );
        expect(info.rows, `${table}.${column}`).toEqual([
          { data_type: 'numeric', numeric_precision: 78, numeric_scale: 0 },
        ]);
      } else {
        const info = await sql<{
          name: string;
          type: string;
        }>`select name, type from pragma_table_info(${table})`.execute(database.db);
        expect(info.rows.find((c) => c.name === column)?.type.toLowerCase(), `${table}.${column}`).toBe(
          'text',
        );
      }
    }
  });

  it('round-trips 2^256-1 exactly through a raw amount column', async () => {
    expect(MAX_BASE_UNITS).toBe(MAX);
    const now = new Date().toISOString();
    await database.db
      .insertInto('merchants')
      .values({ id: 'mer_raw', name: 'raw', policy: '{}', created_at: now })
      .execute();
    await database.db
      .insertInto('invoices')
      .values({
        id: 'inv_raw',
        merchant_id: 'mer_raw',
        status: 'awaiting_payment',
        merchant_order_id: null,
        customer_id: null,
        description: null,
        price_amount: MAX.toString(),
        price_currency: 'ETH',
        metadata: '{}',
        success_url: null,
        cancel_url: null,
        expires_at: now,
        policy: '{}',
        selected_option_id: null,
        refunded_amount: (MAX - 1n).toString(),
        manually_paid: 0,
        sequence: 0,
        version: 0,
        fulfilled_at: null,
        fulfilment: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const row = await database.db
      .selectFrom('invoices')
      .select(['price_amount', 'refunded_amount'])
      .where('id', '=', 'inv_raw')
      .executeTakeFirstOrThrow();
    expect(typeof row.price_amount).toBe('string');
    expect(unitsFromDb(row.price_amount)).toBe(MAX);
    expect(unitsFromDb(row.refunded_amount)).toBe(MAX - 1n);
    // Comparisons in SQL see the same value (no float rounding on the way in).
    const exact = await database.db
      .selectFrom('invoices')
      .select('id')
      .where('price_amount', '=', MAX.toString())
      .execute();
    expect(exact.map((r) => r.id)).toEqual(['inv_raw']);
  });
});

describe('concurrent migration on postgres', () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await freshPostgres();
  });
  afterAll(async () => testDb?.drop());

  it('two gateway processes migrating a fresh database at once apply each migration exactly once', async () => {
    const a = openDatabase({ url: testDb.url });
    const b = openDatabase({ url: testDb.url });
    try {
      const [ranA, ranB] = await Promise.all([migrate(a), migrate(b)]);
      expect([...ranA, ...ranB]).toEqual(Object.keys(MIGRATIONS));
      const recorded = await sql<{ name: string }>`select name from kysely_migration`.execute(a.db);
      expect(recorded.rows.map((r) => r.name)).toEqual(Object.keys(MIGRATIONS));
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe.each(DATABASES)('uint256 amounts through the invoice store on $name', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh());
  });
  afterAll(async () => h?.close());

  it('stores and reads back 2^256-1 wei exactly as price, amount due and payment', async () => {
    // The API refuses prices above 10^15 units, so the extreme amounts are written into the columns
    // directly: this test is about the storage types and conversions, not about pricing.
    const invoice = await createInvoice(h.tally, h.merchantId, {
      price: { amount: '1', currency: 'ETH' },
      payment_options: [{ asset: 'ETH', network: 'evm-devnet' }],
    });
    await expect(
      createInvoice(h.tally, h.merchantId, {
        price: { amount: MAX_ETH, currency: 'ETH' },
        payment_options: [{ asset: 'ETH', network: 'evm-devnet' }],
      }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    await h.tally.database.write(async (trx) => {
      await trx
        .updateTable('invoices')
        .set({ price_amount: MAX.toString() })
        .where('id', '=', invoice.id)
        .execute();
      await trx
        .updateTable('payment_options')
        .set({ amount_due: MAX.toString() })
        .where('invoice_id', '=', invoice.id)
        .execute();
    });

    const stored = await loadInvoice(h.tally.database.db, h.tally.database.dialect, h.merchantId, invoice.id);
    expect(stored?.priceAmount).toBe(MAX);
    expect(stored?.options[0]?.amountDue).toBe(MAX);

    const optionId = stored?.options[0]?.id ?? '';
    await applyFact(h.tally, h.merchantId, invoice.id, {
      kind: 'payment_seen',
      id: 'seen:max',
      payment: {
        paymentId: 'pay_max',
        optionId,
        txid: `0x${'ab'.repeat(32)}`,
        outputIndex: 0,
        amount: MAX,
        rbf: false,
        confirmations: 1,
        blockHash: `0x${'cd'.repeat(32)}`,
        blockHeight: 10,
      },
    });
    const paid = await loadInvoice(h.tally.database.db, h.tally.database.dialect, h.merchantId, invoice.id);
    expect(paid?.payments).toHaveLength(1);
    expect(paid?.payments[0]?.amount).toBe(MAX);
    expect(paid?.status).toBe('paid');
    const raw = await h.tally.database.db
      .selectFrom('payments')
      .select('amount')
      .where('id', '=', 'pay_max')
      .executeTakeFirstOrThrow();
    expect(String(raw.amount)).toBe(MAX.toString());
  });
});
