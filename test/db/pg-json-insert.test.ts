/**
 * pgJsonInsert (src/db/pg-json-insert.ts) sends PostgreSQL's multi-row INSERTs as one JSON
 * parameter. It must store exactly what a VALUES list built by Kysely stores, for every kind of
 * value the invoice writer sends, and refuse rows it cannot send that way.
 */
import { describe, expect, it } from 'vitest';
import { pgJsonInsert } from '../../src/db/pg-json-insert.ts';
import { freshPostgres, useMigratedDatabase } from '../helpers/databases.ts';

const merchant = (id: string, name: string) => ({
  id,
  name,
  policy: JSON.stringify({ note: 'quotes \' and " and \\ survive', nested: { n: [1, 2] } }),
  created_at: '2026-01-01T00:00:00.123Z',
});

/** An invoice row with the column kinds that matter: 78-digit amounts, times, integers, nulls. */
const invoice = (id: string, merchantId: string) => ({
  id,
  merchant_id: merchantId,
  status: 'awaiting_payment',
  merchant_order_id: null,
  customer_id: 'cust "7"',
  description: 'ünïcode ✓, a tab\tand a newline\n',
  price_amount: '123456789012345678901234567890123456789012345678901234567890123456789012345678',
  price_currency: 'USD',
  metadata: JSON.stringify({ order: 'A-1' }),
  success_url: null,
  cancel_url: null,
  expires_at: '2026-01-01T00:15:00.000Z',
  policy: '{}',
  selected_option_id: null,
  refunded_amount: 0n,
  manually_paid: 0,
  sequence: 1,
  version: 1,
  fulfilled_at: null,
  fulfilment: null,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  clock_fact: 'expiry_due',
  clock_at: '2026-01-01T00:15:00.000Z',
});

describe('pgJsonInsert', () => {
  const handle = useMigratedDatabase(freshPostgres);

  it('stores the same rows as a VALUES list built by Kysely', async () => {
    const db = handle.database.db;
    const merchants = [merchant('mer_j1', 'first'), merchant('mer_j2', ''), merchant('mer_j3', "o'brien")];
    const json = pgJsonInsert('merchants', merchants);
    if (!json) throw new Error('plain rows must go as JSON');
    await json.execute(db);
    await db
      .insertInto('merchants')
      .values(merchants.map((m) => ({ ...m, id: m.id.replace('mer_j', 'mer_k') })))
      .execute();
    const invoices = [invoice('inv_j1', 'mer_j1'), invoice('inv_j2', 'mer_j2')];
    await pgJsonInsert('invoices', invoices)?.execute(db);
    await db
      .insertInto('invoices')
      .values(
        invoices.map((i) => ({
          ...i,
          id: i.id.replace('inv_j', 'inv_k'),
          merchant_id: i.merchant_id.replace('j', 'k'),
        })) as never, // a bigint amount, which Kysely's row type does not name
      )
      .execute();

    for (const table of ['merchants', 'invoices'] as const) {
      const rows = (await db.selectFrom(table).selectAll().orderBy('id').execute()) as Array<
        Record<string, unknown>
      >;
      const strip = (r: Record<string, unknown>) => ({
        ...r,
        id: String(r.id).slice(5),
        ...('merchant_id' in r ? { merchant_id: String(r.merchant_id).slice(5) } : {}),
      });
      const viaJson = rows.filter((r) => String(r.id).includes('_j')).map(strip);
      const viaValues = rows.filter((r) => String(r.id).includes('_k')).map(strip);
      expect(viaJson.length, table).toBeGreaterThan(1);
      expect(viaJson, table).toEqual(viaValues);
    }
    const stored = await db
      .selectFrom('invoices')
      .select(['price_amount', 'description'])
      .where('id', '=', 'inv_j1')
      .executeTakeFirstOrThrow();
    expect(String(stored.price_amount)).toBe(invoice('x', 'y').price_amount);
    expect(stored.description).toBe('ünïcode ✓, a tab\tand a newline\n');
  });

  it('keeps the same statement text for any number of rows', () => {
    const text = (n: number) =>
      pgJsonInsert(
        'merchants',
        Array.from({ length: n }, (_, i) => merchant(`mer_${i}`, `m${i}`)),
      )?.compile(handle.database.db).sql;
    expect(text(1)).toBeDefined();
    expect(text(1)).toBe(text(100));
  });

  it('refuses rows it cannot send as JSON, so the caller builds a VALUES list', () => {
    expect(pgJsonInsert('merchants', [])).toBeNull();
    expect(pgJsonInsert('api_keys', [{ id: 'key_1', hash: new Uint8Array([1, 2]) }])).toBeNull();
    expect(
      pgJsonInsert('merchants', [merchant('mer_1', 'a'), { ...merchant('mer_2', 'b'), name: undefined }]),
    ).toBeNull();
    expect(pgJsonInsert('merchants', [merchant('mer_1', 'a'), { id: 'mer_2', name: 'b' }])).toBeNull();
    expect(pgJsonInsert('merchants', [{ id: 'mer_1', when: new Date() }])).toBeNull();
    expect(pgJsonInsert('jobs', [{ id: 'job_1', attempts: Number.NaN }])).toBeNull();
    expect(pgJsonInsert('jobs', [{ id: 'job_1', attempts: Number.POSITIVE_INFINITY }])).toBeNull();
    expect(pgJsonInsert('merchants; drop table x', [merchant('mer_1', 'a')])).toBeNull();
    expect(pgJsonInsert('merchants', [{ 'id"': 'mer_1' }])).toBeNull();
  });
});
