import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedIn } from '../helpers/dashboard-session.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * A NUL in a web form field, query value or path segment. PostgreSQL text cannot hold one, so
 * each of these reached a query and failed there as a 500. Now every web route refuses it first:
 * a 422 naming the field, on the dashboard as a page (what a refused form gets), and nothing
 * written.
 */
for (const { name, fresh } of DATABASES) {
  describe(`NUL in dashboard and web input (${name})`, () => {
    let h: Harness;
    let owner: Awaited<ReturnType<typeof signedIn>>;
    let invoiceId = '';
    beforeAll(async () => {
      h = await createHarness(await fresh());
      owner = await signedIn(h, 'owner@nul.test', 'owner');
      const inv = await h.request('POST', '/v1/invoices', {
        body: {
          price: { amount: '5.00', currency: 'USD' },
          payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        },
      });
      invoiceId = inv.body.id;
    });
    afterAll(async () => h?.close());

    const form = (url: string, fields: Record<string, string>, cookie?: string) =>
      h.app.server.inject({
        method: 'POST',
        url,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(cookie ? { cookie } : {}),
        },
        payload: new URLSearchParams(fields).toString(),
      });

    /** The dashboard's refusal: its page, the status, the field and why. */
    const expectRefusedPage = (res: { statusCode: number; headers: object; body: string }, field: string) => {
      expect(res.statusCode, res.body.slice(0, 300)).toBe(422);
      expect(String((res.headers as Record<string, unknown>)['content-type'])).toContain('text/html');
      expect(res.body).toContain(`${field}: must not contain NUL characters`);
    };

    it('refuses a NUL in the login form, signed out, on the login page', async () => {
      const res = await form('/dashboard/login', { email: 'a\u0000@b.c', password: 'x' });
      expectRefusedPage(res, 'email');
      expect(res.body).toContain('action="/dashboard/login"');
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('refuses a NUL in a query value or path segment of a signed-in page', async () => {
      for (const [url, field] of [
        ['/dashboard/search?q=%00', 'querystring.q'],
        ['/dashboard?before=%00', 'querystring.before'],
        ['/dashboard?queue=exceptions&kind=%00', 'querystring.kind'],
        ['/dashboard?before=ok&before=%00', 'querystring.before'], // a repeated key: each value
        ['/dashboard/invoices/inv_%00', 'params.id'],
        ['/dashboard/settings/webhooks/whe_%00/deliveries', 'params.endpointId'],
      ] as const) {
        const res = await owner.get(url);
        expectRefusedPage(res, field);
        // The dashboard page, signed in: the navigation and who is signed in.
        expect(res.body, url).toContain('owner@nul.test');
        expect(res.body, url).toContain('role="alert"');
      }
      // The same pages with ordinary values still answer.
      expect((await owner.get('/dashboard/search?q=abc')).statusCode).toBe(200);
      expect((await owner.get(`/dashboard/invoices/${invoiceId}`)).statusCode).toBe(200);
    });

    it('refuses a NUL in an action reason and changes nothing', async () => {
      const auditRows = async () =>
        (await h.tally.database.db.selectFrom('audit_log').select('seq').execute()).length;
      const before = await auditRows();
      const res = await form(
        `/dashboard/invoices/${invoiceId}/actions`,
        { action: 'mark_failed', reason: 'abc\u0000def', _csrf: owner.csrf },
        owner.cookie,
      );
      expectRefusedPage(res, 'reason');
      expect((await h.request('GET', `/v1/invoices/${invoiceId}`)).body.status).toBe('awaiting_payment');
      expect(await auditRows()).toBe(before);
    });

    it('sends a signed-out request with a NUL to the login page, not to a query', async () => {
      const res = await h.app.server.inject({ method: 'GET', url: '/dashboard/search?q=%00' });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toMatch(/^\/dashboard\/login\?next=/);
    });

    it('refuses a NUL on the public pages too, as a coded 422 naming the field', async () => {
      for (const [res, field] of [
        [await h.app.server.inject({ method: 'GET', url: '/pay/inv_%00' }), 'params.id'],
        [await h.app.server.inject({ method: 'GET', url: '/pay/inv_%00/status.json' }), 'params.id'],
        [await form('/refund/some-token', { address: 'bc1\u0000' }), 'address'],
      ] as const) {
        expect(res.statusCode).toBe(422);
        expect(res.json().error).toMatchObject({
          code: 'validation_failed',
          details: { issues: [{ path: field, message: 'must not contain NUL characters' }] },
        });
      }
    });
  });
}
