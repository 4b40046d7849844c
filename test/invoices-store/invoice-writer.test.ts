import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responseRow } from '../../src/api/idempotency.ts';
import { isUniqueViolation } from '../../src/db/unique-violation.ts';
import { createInvoice } from '../../src/invoices/create-invoice.ts';
import type { InvoiceJson } from '../../src/invoices/serialize.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

const INPUT = {
  price: { amount: '0.001', currency: 'BTC' },
  payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
};

const NOW = new Date('2026-11-21T12:00:00Z');

describe.each(DATABASES)('batched invoice writer on $name', ({ name, fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh(), { poolTarget: 50 });
    while ((await h.worker.runDue()) > 0) {}
  });
  afterAll(async () => h?.close());

  it('fails only the bad invoice of a batch; the others commit with distinct addresses', async () => {
    const before = await h.tally.database.db.selectFrom('invoices').select('id').execute();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        createInvoice(
          h.tally,
          h.merchantId,
          { ...INPUT, merchant_order_id: `batch-${i}` },
          {
            inTransaction: async () => {
              if (i === 7) throw new Error('store failed for #7');
            },
            row: (invoice) => {
              if (i === 7) throw new Error('store failed for #7');
              return responseRow(h.merchantId, `batch-key-${i}`, 'hash', { status: 201, body: invoice }, NOW);
            },
          },
        ),
      ),
    );
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(String((rejected[0] as PromiseRejectedResult).reason)).toContain('#7');
    const after = await h.tally.database.db
      .selectFrom('invoices')
      .select(['id', 'merchant_order_id'])
      .execute();
    expect(after.length - before.length).toBe(19);
    expect(after.some((r) => r.merchant_order_id === 'batch-7')).toBe(false);
    const addresses = results.flatMap((r) =>
      r.status === 'fulfilled' ? [r.value.payment_options[0]?.address] : [],
    );
    expect(new Set(addresses).size).toBe(19);
    // The failed invoice left nothing behind: no option, event or job points to it.
    const orphans = await h.tally.database.db
      .selectFrom('payment_options')
      .select('id')
      .where(
        'invoice_id',
        'not in',
        after.map((r) => r.id),
      )
      .execute();
    expect(orphans).toEqual([]);
  });

  it('stores each idempotent response with its invoice; a key that collides fails that invoice alone', async () => {
    await h.tally.database.db
      .insertInto('idempotency_keys')
      .values(responseRow(h.merchantId, 'taken-key', 'other', { status: 201, body: {} }, NOW))
      .execute();
    const stored: string[] = [];
    const create = (i: number, key: string) => {
      const row = (invoice: InvoiceJson) =>
        responseRow(h.merchantId, key, 'hash', { status: 201, body: invoice }, NOW);
      return createInvoice(
        h.tally,
        h.merchantId,
        { ...INPUT, merchant_order_id: `resp-${i}` },
        {
          inTransaction: async (trx, invoice) => {
            stored.push(key);
            await trx.insertInto('idempotency_keys').values(row(invoice)).execute();
          },
          row,
        },
      );
    };
    // Without a collision, SQLite's pipelined batches store the responses as rows of their own
    // transaction; the transaction hook is for the ordinary path (PostgreSQL, retries).
    const clean = await Promise.all(Array.from({ length: 4 }, (_, i) => create(100 + i, `clean-key-${i}`)));
    if (name === 'sqlite') expect(stored).toEqual([]);
    const cleanRows = await h.tally.database.db
      .selectFrom('idempotency_keys')
      .select(['key', 'response_body'])
      .where('key', 'like', 'clean-key-%')
      .orderBy('key')
      .execute();
    expect(cleanRows.map((r) => JSON.parse(r.response_body).id)).toEqual(clean.map((inv) => inv.id));

    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => {
        const key = i === 5 ? 'taken-key' : `resp-key-${i}`;
        return create(i, key);
      }),
    );
    const rejected = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    expect(rejected).toEqual([5]);
    expect(isUniqueViolation((results[5] as PromiseRejectedResult).reason)).toBe(true);
    const rows = await h.tally.database.db
      .selectFrom('idempotency_keys')
      .select(['key', 'response_body'])
      .where('key', 'like', 'resp-key-%')
      .execute();
    expect(rows).toHaveLength(11);
    for (const [i, r] of results.entries()) {
      if (r.status !== 'fulfilled') continue;
      const row = rows.find((x) => x.key === `resp-key-${i}`);
      expect(JSON.parse(row?.response_body ?? '{}').id).toBe(r.value.id);
    }
    const orders = await h.tally.database.db
      .selectFrom('invoices')
      .select('merchant_order_id')
      .where('merchant_order_id', 'like', 'resp-%')
      .execute();
    expect(orders.map((o) => o.merchant_order_id)).not.toContain('resp-5');
    expect(orders).toHaveLength(4 + 11);
  });
});
