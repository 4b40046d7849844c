import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/audit/audit-log.ts';
import { verifyAudit } from '../../src/audit/verify-audit.ts';
import { createUser } from '../../src/auth/merchants.ts';
import { setPassword } from '../../src/auth/user-credentials.ts';
import { main } from '../../src/cli/main.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * Login, sessions, CSRF and the audit chain on both databases, in-process: throttling after five
 * failures, cookie flags, forms refused without their token or from another origin, the log's
 * append-only triggers, and `tally audit verify` catching an edited entry.
 */
const PASSWORD = 'a long enough passphrase';

for (const { name, fresh } of DATABASES) {
  describe(`dashboard auth and audit (${name})`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness(await fresh());
      for (const [email, role] of [
        ['owner@a.test', 'owner'],
        ['support@a.test', 'support'],
      ] as const) {
        const u = await createUser(h.tally.database.db, h.merchantId, email, role, h.clock.now());
        await setPassword(h.tally.database, u.id, PASSWORD, h.clock.now());
      }
    });
    afterAll(async () => h?.close());

    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
    const loginAs = (email: string, password: string, ip = '10.1.1.1') =>
      h.app.server.inject({
        method: 'POST',
        url: '/dashboard/login',
        remoteAddress: ip,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({ email, password, next: '/dashboard' }),
      });

    it('five wrong passwords lock the email for 15 minutes, even with the right one after', async () => {
      for (let i = 0; i < 5; i++)
        expect((await loginAs('owner@a.test', 'wrong password!')).statusCode).toBe(401);
      const locked = await loginAs('owner@a.test', PASSWORD);
      expect(locked.statusCode).toBe(429);
      expect(locked.headers['retry-after']).toBe('900');
      h.clock.advance(15 * 60 * 1000 + 1000);
      expect((await loginAs('owner@a.test', PASSWORD)).statusCode).toBe(303);
    });

    it('a session cookie is HttpOnly and SameSite=Strict; forms need the CSRF token and our origin', async () => {
      const res = await loginAs('support@a.test', PASSWORD);
      expect(res.statusCode).toBe(303);
      const cookie = String(res.headers['set-cookie']);
      expect(cookie).toMatch(
        /^tally_session=[\w-]{43}; Path=\/dashboard; HttpOnly; SameSite=Strict; Max-Age=43200$/,
      );
      const session = cookie.split(';')[0] ?? '';
      const home = await h.app.server.inject({
        method: 'GET',
        url: '/dashboard',
        headers: { cookie: session },
      });
      expect(home.statusCode).toBe(200);
      const token = /name="_csrf" value="([^"]+)"/.exec(home.body)?.[1] ?? '';
      expect(token).toHaveLength(43);
      const inv = await h.request('POST', '/v1/invoices', {
        body: {
          price: { amount: '5.00', currency: 'USD' },
          payment_options: [{ asset: 'USDC', network: 'evm-devnet' }],
        },
      });
      expect(inv.status).toBe(201);
      const post = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
        h.app.server.inject({
          method: 'POST',
          url: `/dashboard/invoices/${inv.body.id}/actions`,
          headers: {
            cookie: session,
            'content-type': 'application/x-www-form-urlencoded',
            host: 'tally.test',
            ...headers,
          },
          payload: form(fields),
        });
      const tokenless = await post({ action: 'mark_review', reason: 'x' });
      expect(tokenless.statusCode).toBe(403);
      // A form problem, not the role's: said as such, on the invoice page, with a fresh form.
      expect(tokenless.body).toContain('The form token is missing or stale');
      expect(tokenless.body).not.toContain('Your role does not allow this');
      expect(tokenless.body).toContain('id="invoice-status"');
      expect(
        (await post({ action: 'mark_review', reason: 'x', _csrf: token }, { origin: 'https://evil.test' }))
          .statusCode,
      ).toBe(403);
      const ok = await post(
        { action: 'mark_review', reason: 'looks odd', _csrf: token },
        { origin: 'http://tally.test' },
      );
      expect(ok.statusCode).toBe(303);
      const missing = await post({ action: 'mark_review', _csrf: token });
      expect(missing.statusCode).toBe(422);
      expect(missing.body).toContain('reason: is required');
      expect(missing.body).toContain('id="invoice-status"'); // still on the invoice
      const overreach = await post({ action: 'mark_paid', reason: 'support tries', _csrf: token });
      expect(overreach.statusCode).toBe(403);
      expect(overreach.body).toContain('Your role does not allow this');
      const noSession = await h.app.server.inject({ method: 'GET', url: '/dashboard' });
      expect(noSession.statusCode).toBe(303);
      expect(noSession.headers.location).toBe('/dashboard/login?next=%2Fdashboard');
      // The JSON API still refuses form bodies: the form parser lives in the web context only.
      const api = await h.app.server.inject({
        method: 'POST',
        url: '/v1/invoices',
        headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'a=b',
      });
      expect(api.statusCode).toBe(415);
    });

    it('users made or given a password from the CLI are in the audit log, as from the dashboard', async () => {
      process.env.TALLY_DATABASE_URL = h.tally.config.databaseUrl;
      try {
        const out: string[] = [];
        const args = ['--merchant', h.merchantId, '--email', 'cli.owner@a.test'];
        expect(await main(['user', 'create', ...args, '--role', 'owner', '--json'], (s) => out.push(s))).toBe(
          0,
        );
        const created = JSON.parse(out.join('')) as { id: string };
        expect(await main(['user', 'password', ...args, '--json'], () => {})).toBe(0);
        const entries = await h.tally.database.db
          .selectFrom('audit_log')
          .select(['action', 'actor_kind', 'actor_id', 'target_id'])
          .where('target_id', '=', created.id)
          .orderBy('seq')
          .execute();
        expect(entries).toEqual([
          { action: 'settings.user_create', actor_kind: 'system', actor_id: 'cli', target_id: created.id },
          {
            action: 'settings.user_reset_password',
            actor_kind: 'system',
            actor_id: 'cli',
            target_id: created.id,
          },
        ]);
        expect((await verifyAudit(h.tally.database.db)).ok).toBe(true);
      } finally {
        delete process.env.TALLY_DATABASE_URL;
      }
    });

    it('the audit log is append-only, chained, and `tally audit verify` finds an edited entry', async () => {
      const db = h.tally.database;
      await db.write((trx) =>
        appendAudit(
          trx,
          db.dialect,
          {
            merchantId: h.merchantId,
            actor: { kind: 'system', id: 'test', label: 'test' },
            action: 'test.entry',
            target: null,
            reason: 'original reason',
            details: { n: 1 },
          },
          h.clock.now(),
        ),
      );
      const before = await verifyAudit(db.db);
      expect(before.ok).toBe(true);
      expect(before.entries).toBeGreaterThanOrEqual(8);
      await expect(sql`update audit_log set reason = 'rewritten'`.execute(db.db)).rejects.toThrow(
        /append-only/,
      );
      await expect(sql`delete from audit_log`.execute(db.db)).rejects.toThrow(/append-only/);

      process.env.TALLY_DATABASE_URL = h.tally.config.databaseUrl;
      const lines: string[] = [];
      expect(await main(['audit', 'verify'], (s) => lines.push(s))).toBe(0);
      expect(lines.join('\n')).toContain(`Audit log intact: ${before.entries} entries`);

      // Someone with the database's owner rights goes around the trigger and edits history.
      if (name === 'sqlite') {
        await sql`drop trigger audit_log_no_update`.execute(db.db);
        await sql`update audit_log set reason = 'rewritten' where action = 'test.entry'`.execute(db.db);
      } else {
        await sql`alter table audit_log disable trigger audit_log_no_update`.execute(db.db);
        await sql`update audit_log set reason = 'rewritten' where action = 'test.entry'`.execute(db.db);
      }
      const after = await verifyAudit(db.db);
      expect(after.ok).toBe(false);
      expect(after.problem?.reason).toContain('edited');
      lines.length = 0;
      expect(await main(['audit', 'verify'], (s) => lines.push(s))).toBe(1);
      expect(lines.join('\n')).toMatch(/Audit log BROKEN at entry \d+: its content does not match its hash/);
      delete process.env.TALLY_DATABASE_URL;
    });
  });
}
