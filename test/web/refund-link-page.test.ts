import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bitcoinAddressDeriver } from '../../src/wallets/families.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, freshKeys, type Harness } from '../helpers/harness.ts';
import { recordPayment } from '../helpers/record-payment.ts';

/**
 * The customer's refund page (`/refund/:token`, no login): it shows what is refunded on which
 * network, refuses an address of another network naming the problem, and records a good one, which
 * the merchant then sees on the refund awaiting approval.
 */
describe.each(DATABASES)('customer refund link page on $name', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh());
  });
  afterAll(async () => h?.close());

  async function refundLink(): Promise<{ id: string; token: string }> {
    const created = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '0.001', currency: 'BTC' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      },
    });
    await recordPayment(h, created.body.id, created.body.payment_options[0]);
    expect((await h.request('GET', `/v1/invoices/${created.body.id}`)).body.status).toBe('paid');
    const asked = await h.request('POST', `/v1/invoices/${created.body.id}/refunds`, {
      body: { kind: 'full', customer_link: true, reason: 'order cancelled' },
    });
    expect(asked.status).toBe(201);
    return { id: asked.body.id, token: asked.body.customer_link_token };
  }

  const form = (address: string) => ({
    rawBody: new URLSearchParams({ address }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    token: null,
  });

  it('shows the amount and network, refuses another network naming the address, records a good one', async () => {
    const { id, token } = await refundLink();
    const page = await h.request('GET', `/refund/${token}`, { token: null });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain('0.001 BTC');
    expect(page.body).toContain('Bitcoin regtest');
    expect(page.body).toContain('<form method="post">');

    const wrong = await h.request(
      'POST',
      `/refund/${token}`,
      form('bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq'),
    );
    expect(wrong.status).toBe(422);
    expect(wrong.body).toContain('role="alert"');
    expect(wrong.body).toContain('destination');
    expect((await h.request('GET', `/v1/refunds/${id}`)).body.status).toBe('awaiting_destination');

    const address = bitcoinAddressDeriver(freshKeys().regtest, 'bitcoin-regtest')(0);
    const good = await h.request('POST', `/refund/${token}`, form(address));
    expect(good.status).toBe(200);
    expect(good.body).toContain(address);
    const refund = (await h.request('GET', `/v1/refunds/${id}`)).body;
    expect(refund).toMatchObject({ status: 'pending_approval', destination: address });

    // The link is spent: the page says so and a second address is refused.
    expect((await h.request('GET', `/refund/${token}`, { token: null })).body).toContain(
      'already has its address',
    );
    expect((await h.request('POST', `/refund/${token}`, form(address))).status).toBe(422);
  });

  it('an unknown token is a 404 page', async () => {
    const res = await h.request('GET', '/refund/not-a-real-token', { token: null });
    expect(res.status).toBe(404);
    expect(res.body).toContain('No such refund link');
  });
});
