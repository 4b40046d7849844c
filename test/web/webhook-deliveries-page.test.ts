import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../src/auth/merchants.ts';
import { setPassword } from '../../src/auth/user-credentials.ts';
import { DeliveryWorker } from '../../src/webhooks/delivery-worker.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { TestReceiver } from '../webhooks/helpers/receiver.ts';
import { addEndpoint, createInvoices } from '../webhooks/helpers/setup.ts';

/**
 * The per-endpoint delivery log in settings: linked from the endpoint list, lists the endpoint's
 * deliveries with their last attempt, gated like the settings page (support may not see it), and
 * its redeliver button posts the invoice page's existing redeliver action.
 */
const PASSWORD = 'a long enough passphrase';

for (const { name, fresh } of DATABASES) {
  describe(`webhook delivery log page (${name})`, () => {
    let h: Harness;
    let receiver: TestReceiver;
    beforeAll(async () => {
      h = await createHarness(await fresh());
      receiver = await new TestReceiver().start();
      for (const role of ['owner', 'developer', 'support'] as const) {
        const u = await createUser(h.tally.database.db, h.merchantId, `${role}@d.test`, role, h.clock.now());
        await setPassword(h.tally.database, u.id, PASSWORD, h.clock.now());
      }
    });
    afterAll(async () => {
      await receiver?.stop();
      await h?.close();
    });

    const inject = (opts: InjectOptions) => h.app.server.inject(opts);
    const session = async (role: string) => {
      const res = await inject({
        method: 'POST',
        url: '/dashboard/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ email: `${role}@d.test`, password: PASSWORD }).toString(),
      });
      expect(res.statusCode).toBe(303);
      const cookie = String(res.headers['set-cookie']).split(';')[0] ?? '';
      const get = (url: string) => inject({ method: 'GET', url, headers: { cookie } });
      return Object.assign(get, { cookie });
    };

    it('lists the endpoint’s deliveries with their last attempt, for developers only', async () => {
      const ep = await addEndpoint(h, receiver);
      const [invoiceId] = await createInvoices(h, 1);
      expect(await new DeliveryWorker(h.tally).runOnce()).toBe(1);
      const delivery = await h.tally.database.db
        .selectFrom('webhook_deliveries')
        .select(['id', 'event_id'])
        .where('endpoint_id', '=', ep.id)
        .executeTakeFirstOrThrow();

      const dev = await session('developer');
      const settings = await dev('/dashboard/settings');
      const url = `/dashboard/settings/webhooks/${ep.id}/deliveries`;
      expect(settings.body).toContain(`href="${url}"`);
      const page = await dev(url);
      expect(page.statusCode).toBe(200);
      const row = /<tr data-delivery="([^"]+)">([\s\S]*?)<\/tr>/.exec(page.body);
      expect(row?.[1]).toBe(delivery.id);
      expect(row?.[2]).toContain('invoice.awaiting_payment');
      expect(row?.[2]).toContain(delivery.event_id);
      expect(row?.[2]).toContain('<td>succeeded</td>');
      expect(row?.[2]).toMatch(/<td>\w+ 200<\/td>/);
      // A developer reads the log but the redeliver action is support's (src/auth/permissions.ts).
      expect(row?.[2]).not.toContain('data-action="redeliver"');
      // A repeated query key is ignored, not passed on as a list (it was a 500).
      const repeated = await dev(`${url}?before=a&before=b`);
      expect(repeated.statusCode).toBe(200);
      expect(repeated.body).toContain(delivery.id);
      expect((await dev('/dashboard?queue=exceptions&before=a&before=b')).statusCode).toBe(200);
      // Another endpoint id (or another merchant's) is not found, not someone else's log.
      expect((await dev('/dashboard/settings/webhooks/whe_nope/deliveries')).statusCode).toBe(404);

      // An owner gets the button; it posts the existing invoice action, which re-queues the delivery.
      const owner = await session('owner');
      const own = (await owner(url)).body;
      const form = /<form method="post" action="([^"]+)"[^>]*data-action="redeliver">([\s\S]*?)<\/form>/.exec(
        own,
      );
      expect(form?.[1]).toBe(`/dashboard/invoices/${invoiceId}/actions`);
      const fields = Object.fromEntries(
        [...(form?.[2] ?? '').matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]),
      );
      expect(fields.delivery_id).toBe(delivery.id);
      const posted = await inject({
        method: 'POST',
        url: form?.[1] ?? '',
        headers: { cookie: owner.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(fields as Record<string, string>).toString(),
      });
      expect(posted.statusCode).toBe(303);
      expect((await owner(url)).body).toMatch(/<td>pending<\/td>/);

      const support = await session('support');
      const refused = await support(url);
      expect(refused.statusCode).toBe(403);
      expect(refused.body).not.toContain(delivery.id);
    });
  });
}
