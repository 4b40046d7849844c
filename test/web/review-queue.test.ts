import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedIn } from '../helpers/dashboard-session.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * The review queue as a support agent works it: an invoice marked twice is listed once, a clearing
 * note takes it out, a new mark puts it back. And what a support agent does not see: the audit
 * entries on an invoice page, links to pages the role may not open, a confirmation a crafted link
 * wrote.
 */
for (const { name, fresh } of DATABASES) {
  describe(`dashboard review queue (${name})`, () => {
    let h: Harness;
    let support: Awaited<ReturnType<typeof signedIn>>;
    let invoiceId = '';
    beforeAll(async () => {
      h = await createHarness(await fresh());
      support = await signedIn(h, 'support@q.test', 'support');
      const inv = await h.request('POST', '/v1/invoices', {
        body: {
          price: { amount: '5.00', currency: 'USD' },
          payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        },
      });
      invoiceId = inv.body.id;
    });
    afterAll(async () => h?.close());

    it('keeps a session working past its first minute, touching its idle clock through the writer', async () => {
      const seen = async () =>
        (
          await h.tally.database.db
            .selectFrom('user_sessions')
            .innerJoin('users', 'users.id', 'user_sessions.user_id')
            .select('user_sessions.last_seen_at')
            .where('users.email', '=', 'support@q.test')
            .executeTakeFirstOrThrow()
        ).last_seen_at;
      const before = String(await seen());
      // Before the fix, the touch went to SQLite's query-only connection: 500 from the first minute on.
      h.clock.advance(2 * 60_000);
      expect((await get('/dashboard')).statusCode).toBe(200);
      expect(String(await seen())).not.toBe(before);
      expect((await get('/dashboard')).statusCode).toBe(200);
    });

    it('offers an owner mark paid / mark failed only where the state machine takes them', async () => {
      const owner = await signedIn(h, 'owner@q.test', 'owner');
      const view = async (id: string) => (await owner.get(`/dashboard/invoices/${id}`)).body;
      const awaiting = await view(invoiceId);
      expect(awaiting).not.toContain('data-action="mark_paid"'); // refused from awaiting_payment
      expect(awaiting).toContain('data-action="mark_failed"');
      const expired = await h.request('POST', '/v1/invoices', {
        body: {
          price: { amount: '3.00', currency: 'USD' },
          payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        },
      });
      h.clock.advance(16 * 60_000);
      for (let n = await h.worker.runDue(); n > 0; n = await h.worker.runDue());
      expect((await h.request('GET', `/v1/invoices/${expired.body.id}`)).body.status).toBe('expired');
      expect(await view(expired.body.id)).toContain('data-action="mark_paid"');
      const marked = await h.request('POST', `/v1/invoices/${expired.body.id}/actions`, {
        body: { action: 'mark_paid', reason: 'paid by bank transfer' },
      });
      expect(marked.body.status).toBe('paid');
      const paid = await view(expired.body.id);
      expect(paid).not.toContain('data-action="mark_paid"');
      expect(paid).not.toContain('data-action="mark_failed"');
    });

    const get = (url: string) => support.get(url);
    const act = async (action: string, reason: string) => {
      const res = await h.app.server.inject({
        method: 'POST',
        url: `/dashboard/invoices/${invoiceId}/actions`,
        headers: { cookie: support.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ action, reason, _csrf: support.csrf }).toString(),
      });
      expect(res.statusCode, `${action}: ${res.body.slice(0, 200)}`).toBe(303);
    };
    const queue = async () => {
      const page = (await get('/dashboard?queue=review')).body;
      return {
        count: /data-queue="review">([^<]*)</.exec(page)?.[1],
        rows: page.split(invoiceId).length - 1,
      };
    };

    it('lists an invoice marked twice once, drops it when cleared, takes it back on a new mark', async () => {
      await act('mark_review', 'customer says the amount looked wrong');
      await act('mark_review', 'second look');
      const marked = await queue();
      expect(marked.count).toBe('1');
      expect(marked.rows).toBeGreaterThan(0);
      const rowsWhenMarked = marked.rows;
      expect((await get(`/dashboard/invoices/${invoiceId}`)).body).toContain('data-action="clear_review"');

      await act('clear_review', 'checked with the customer: amount was right');
      const cleared = await queue();
      expect(cleared.count).toBe('0');
      expect(cleared.rows).toBe(0);
      expect((await get(`/dashboard/invoices/${invoiceId}`)).body).not.toContain(
        'data-action="clear_review"',
      );

      await act('mark_review', 'customer wrote again');
      const again = await queue();
      expect(again.count).toBe('1');
      expect(again.rows).toBe(rowsWhenMarked);
    });

    it('hides the audit entries and the links a support agent may not open, and ignores a crafted confirmation', async () => {
      const page = (await get(`/dashboard/invoices/${invoiceId}?done=Refund%20sent.%20Call%20%2B1-555-0100`))
        .body;
      expect(page).not.toContain('Refund sent');
      expect(page).not.toContain('id="audit"');
      expect(page).not.toContain('href="/dashboard/audit"');
      expect(page).not.toContain('href="/dashboard/settings"');
      expect((await get('/dashboard/audit')).statusCode).toBe(403);
      // A real action's confirmation still shows.
      expect((await get(`/dashboard/invoices/${invoiceId}?done=mark_review`)).body).toContain(
        'Done: Mark for review.',
      );
    });
  });
}
