/**
 * The short-lived creation context (src/invoices/creation-context.ts): shared between creations,
 * so nothing one request asks for may leak into the next, and a change made in this process is
 * seen by the next creation even when a load overlapped it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInvoice } from '../../src/invoices/create-invoice.ts';
import { creationContext, forgetCreationContext } from '../../src/invoices/creation-context.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

const INPUT = {
  price: { amount: '0.001', currency: 'BTC' },
  payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
};

const lifetimeSeconds = (invoice: { created_at: string; expires_at: string }) =>
  (Date.parse(invoice.expires_at) - Date.parse(invoice.created_at)) / 1000;

describe.each(DATABASES)('invoice creation context on $name', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh(), { poolTarget: 20 });
    while ((await h.worker.runDue()) > 0) {}
  });
  afterAll(async () => h?.close());

  it("keeps one request's expires_in_seconds out of the next invoices", async () => {
    const first = await createInvoice(h.tally, h.merchantId, INPUT);
    const defaultLifetime = lifetimeSeconds(first);
    expect(defaultLifetime).toBeGreaterThan(60);
    const short = await createInvoice(h.tally, h.merchantId, { ...INPUT, expires_in_seconds: 60 });
    expect(lifetimeSeconds(short)).toBe(60);
    const after = await createInvoice(h.tally, h.merchantId, INPUT);
    expect(lifetimeSeconds(after)).toBe(defaultLifetime);
  });

  it('does not keep a load that a change in this process overlapped', async () => {
    forgetCreationContext(h.tally, h.merchantId); // nothing cached: the next call loads
    const loading = creationContext(h.tally, h.merchantId);
    forgetCreationContext(h.tally, h.merchantId); // a change committed while the load ran
    const before = await loading;
    const changed = { ...before.merchant.policy, expiry_seconds: before.merchant.policy.expiry_seconds + 7 };
    await h.tally.database.write((trx) =>
      trx
        .updateTable('merchants')
        .set({ policy: JSON.stringify(changed) })
        .where('id', '=', h.merchantId)
        .execute(),
    );
    const next = await creationContext(h.tally, h.merchantId);
    expect(next.merchant.policy.expiry_seconds).toBe(changed.expiry_seconds);
  });
});
