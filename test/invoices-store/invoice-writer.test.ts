import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInvoice } from '../../src/invoices/create-invoice.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

const INPUT = {
  price: { amount: '0.001', currency: 'BTC' },
  payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
};

describe.each(DATABASES)('batched invoice writer on $name', ({ fresh }) => {
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
        createInvoice(h.tally, h.merchantId, { ...INPUT, merchant_order_id: `batch-${i}` }, async () => {
          if (i === 7) throw new Error('store failed for #7');
        }),
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
});
