import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * A query parameter a route does not take is refused with 422 naming it, on routes without a query
 * schema as on those with one: `?limit=2` on a list that does not page must not look obeyed.
 */
for (const { name, fresh } of DATABASES.slice(0, 1)) {
  describe(`unknown query parameters (${name})`, () => {
    let h: Harness;
    let invoiceId = '';
    beforeAll(async () => {
      h = await createHarness(await fresh());
      const inv = await h.request('POST', '/v1/invoices', {
        body: {
          price: { amount: '1', currency: 'USD' },
          payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        },
      });
      invoiceId = inv.body.id;
    });
    afterAll(async () => h?.close());

    it('refuses them on lists without paging and on single resources', async () => {
      for (const url of [
        `/v1/invoices/${invoiceId}/transitions?limit=2`,
        '/v1/api-keys?foo=bar',
        '/v1/wallets?limit=1',
        `/v1/invoices/${invoiceId}?expand=payments`,
      ]) {
        const res = await h.request('GET', url);
        expect(res.status, url).toBe(422);
        expect(res.body.error.code).toBe('validation_failed');
        const param = new URL(url, 'http://x').searchParams.keys().next().value;
        expect(JSON.stringify(res.body.error.details), url).toContain(`querystring.${param}`);
      }
    });

    it('refuses an event type the catalogue does not have, and filters by one it has', async () => {
      const wrong = await h.request('GET', '/v1/events?type=invoice.nope');
      expect(wrong.status).toBe(422);
      expect(JSON.stringify(wrong.body.error.details)).toContain('querystring.type');
      const right = await h.request('GET', '/v1/events?type=invoice.awaiting_payment');
      expect(right.status).toBe(200);
      expect(right.body.data.map((e: { type: string }) => e.type)).toEqual(['invoice.awaiting_payment']);
    });

    it('still answers those routes without parameters, and paged lists with theirs', async () => {
      expect((await h.request('GET', `/v1/invoices/${invoiceId}/transitions`)).status).toBe(200);
      expect((await h.request('GET', '/v1/api-keys')).status).toBe(200);
      expect((await h.request('GET', '/v1/invoices?limit=1')).status).toBe(200);
    });
  });
}
