import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInvoice } from '../../src/invoices/create-invoice.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness, walletIdOf } from '../helpers/harness.ts';

const INPUT = {
  price: { amount: '1', currency: 'BTC' },
  payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
};

describe.each(DATABASES)('address pool refill on $name', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh(), { poolTarget: 5 });
  });
  afterAll(async () => h?.close());

  async function freeAddresses(): Promise<number> {
    const walletId = await walletIdOf(h, 'bitcoin-regtest');
    const row = await h.tally.database.db
      .selectFrom('wallet_addresses')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('wallet_id', '=', walletId)
      .where('option_id', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  it('refills a pool that ran dry, so later invoices do not derive on the request path', async () => {
    while ((await h.worker.runDue()) > 0) {}
    expect(await freeAddresses()).toBe(5);
    for (let i = 0; i < 7; i++) await createInvoice(h.tally, h.merchantId, INPUT); // 5 from the pool, 2 inline
    expect(await freeAddresses()).toBe(0);
    const job = await h.tally.database.db
      .selectFrom('jobs')
      .select(['status'])
      .where('kind', '=', 'wallet.top_up')
      .where('status', '=', 'pending')
      .execute();
    expect(job.length).toBeGreaterThanOrEqual(1);
    while ((await h.worker.runDue()) > 0) {}
    expect(await freeAddresses()).toBe(5);
  });
});
