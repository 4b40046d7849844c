import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.ts';
import { verifyAudit } from '../../src/audit/verify-audit.ts';
import { createUser, getMerchant } from '../../src/auth/merchants.ts';
import type { UserRole } from '../../src/auth/scopes.ts';
import { setPassword } from '../../src/auth/user-credentials.ts';
import { newId } from '../../src/core/ids.ts';
import { iso } from '../../src/db/values.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * Settings that act, in-process on both databases: each change needs its role (the table in
 * src/auth/permissions.ts), the session's CSRF token and, where money or access changes, a
 * reason; refusals are 4xx naming the field; secrets are shown once; each change is one audit
 * entry and the chain still verifies. Also the refunds queue and the timeline's refunds.
 */
const PASSWORD = 'a long enough passphrase';

for (const { name, fresh } of DATABASES) {
  describe(`dashboard settings (${name})`, () => {
    let h: Harness;
    const ids: Partial<Record<UserRole, string>> = {};
    beforeAll(async () => {
      h = await createHarness(await fresh());
      for (const role of ['owner', 'admin', 'developer', 'support'] as const) {
        const u = await createUser(h.tally.database.db, h.merchantId, `${role}@s.test`, role, h.clock.now());
        await setPassword(h.tally.database, u.id, PASSWORD, h.clock.now());
        ids[role] = u.id;
      }
    });
    afterAll(async () => h?.close());

    const inject = (opts: InjectOptions) => h.app.server.inject(opts);
    const login = async (email: string, password = PASSWORD) => {
      const res = await inject({
        method: 'POST',
        url: '/dashboard/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ email, password }).toString(),
      });
      return res.statusCode === 303 ? (String(res.headers['set-cookie']).split(';')[0] ?? '') : null;
    };
    /** A signed-in user: GETs, and form posts to /dashboard/settings carrying the page's token. */
    const as = async (role: string) => {
      const cookie = await login(`${role}@s.test`);
      expect(cookie).toBeTruthy();
      const get = (url: string) => inject({ method: 'GET', url, headers: { cookie: cookie ?? '' } });
      const home = await get('/dashboard');
      const token = /name="_csrf" value="([^"]+)"/.exec(home.body)?.[1] ?? '';
      const post = (fields: Record<string, string>, withToken = true) =>
        inject({
          method: 'POST',
          url: '/dashboard/settings',
          headers: { cookie: cookie ?? '', 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({ ...fields, ...(withToken ? { _csrf: token } : {}) }).toString(),
        });
      return { get, post };
    };
    const secretOf = (body: string) => /<code id="secret-value">([^<]+)<\/code>/.exec(body)?.[1];

    it('a developer manages webhook endpoints and API keys within its scopes, and nothing else', async () => {
      const dev = await as('developer');
      const created = await dev.post({
        action: 'webhook_create',
        url: 'http://127.0.0.1:9/hook',
        events: 'invoice.paid, invoice.expired',
        reason: 'order system integration',
      });
      expect(created.statusCode).toBe(200);
      const secret = secretOf(created.body);
      expect(secret).toMatch(/^whsec_/);
      const page = await dev.get('/dashboard/settings');
      expect(page.body).toContain('http://127.0.0.1:9/hook');
      expect(page.body).not.toContain(secret);
      const endpointId = /data-endpoint="(whe_[0-9a-z]+)"/.exec(page.body)?.[1] ?? '';

      const badEvent = await dev.post({
        action: 'webhook_create',
        url: 'http://127.0.0.1:9/x',
        events: 'invoice.nope',
        reason: 'x',
      });
      expect(badEvent.statusCode).toBe(422);
      expect(badEvent.body).toContain('events: &quot;invoice.nope&quot; is not an event type');
      const noReason = await dev.post({ action: 'webhook_rotate', endpoint_id: endpointId });
      expect(noReason.statusCode).toBe(422);
      expect(noReason.body).toContain('reason: is required');
      const rotated = await dev.post({
        action: 'webhook_rotate',
        endpoint_id: endpointId,
        overlap_seconds: '3600',
        reason: 'leaked in a log',
      });
      expect(rotated.statusCode).toBe(200);
      expect(secretOf(rotated.body)).toMatch(/^whsec_/);
      expect(secretOf(rotated.body)).not.toBe(secret);
      expect(rotated.body).toContain('old secret valid until 2026-11-21T13:00:00.000Z');
      const disabled = await dev.post({ action: 'webhook_disable', endpoint_id: endpointId });
      expect(disabled.statusCode).toBe(303);
      expect((await dev.get('/dashboard/settings')).body).toContain('disabled (disabled by the merchant)');

      const key = await dev.post({
        action: 'api_key_create',
        name: 'shop backend',
        'scope.invoices:write': '1',
        'scope.invoices:read': '1',
        reason: 'new checkout service',
      });
      expect(key.statusCode).toBe(200);
      const token = secretOf(key.body) ?? '';
      expect((await h.request('GET', '/v1/invoices', { token })).status).toBe(200);
      const admin = await dev.post({
        action: 'api_key_create',
        name: 'root',
        'scope.admin': '1',
        reason: 'try',
      });
      expect(admin.statusCode).toBe(403);
      expect(admin.body).toContain('scopes: the developer role may not grant admin');
      // The merchant's own admin key (made by the harness) is beyond a developer to revoke.
      const keys = await h.tally.database.db
        .selectFrom('api_keys')
        .select(['id', 'name'])
        .where('merchant_id', '=', h.merchantId)
        .execute();
      const adminKey = keys.find((k) => k.name === 'test')?.id ?? '';
      expect((await dev.post({ action: 'api_key_revoke', key_id: adminKey, reason: 'try' })).statusCode).toBe(
        403,
      );
      const ownKey = keys.find((k) => k.name === 'shop backend')?.id ?? '';
      expect(
        (await dev.post({ action: 'api_key_revoke', key_id: ownKey, reason: 'rotated out' })).statusCode,
      ).toBe(303);
      expect((await h.request('GET', '/v1/invoices', { token })).status).toBe(401);

      expect(
        (await dev.post({ action: 'policy_update', expiry_seconds: '600', reason: 'x' })).statusCode,
      ).toBe(403);
      expect(
        (await dev.post({ action: 'user_create', email: 'x@s.test', role: 'support', reason: 'x' }))
          .statusCode,
      ).toBe(403);
      // Without the form token nothing happens, whatever the role allows.
      expect((await dev.post({ action: 'webhook_enable', endpoint_id: endpointId }, false)).statusCode).toBe(
        403,
      );
      const support = await as('support');
      expect((await support.get('/dashboard/settings')).statusCode).toBe(403);
      expect((await support.post({ action: 'webhook_enable', endpoint_id: endpointId })).statusCode).toBe(
        403,
      );
    });

    it('an admin edits the policy with the API checks, naming the refused field', async () => {
      const admin = await as('admin');
      // Wallets: a Bitcoin wallet with its script type, the EVM one without a repeated "evm".
      const wallets = /<section class="card" id="wallets">(.*?)<\/section>/s.exec(
        (await admin.get('/dashboard/settings')).body,
      )?.[1];
      expect(wallets).toContain('<strong>bitcoin-regtest</strong> p2wpkh');
      expect(wallets).toContain('<strong>evm</strong> · ');
      const before = (await getMerchant(h.tally.database.db, h.merchantId)).policy;
      const form = {
        action: 'policy_update',
        expiry_seconds: '1800',
        monitoring_window_seconds: String(before.monitoring_window_seconds),
        underpayment_tolerance_bps: '100',
        overpayment_tolerance_bps: '50',
        value_currency: 'USD',
        zero_conf_max_value: '',
        confirmation_tiers:
          '{"bitcoin-regtest":[{"max_value":"100.00","confirmations":1},{"max_value":null,"confirmations":3}]}',
        reason: 'fewer expired carts',
      };
      const tooShort = await admin.post({ ...form, expiry_seconds: '30' });
      expect(tooShort.statusCode).toBe(422);
      expect(tooShort.body).toContain('policy.expiry_seconds: expected integer to be greater or equal to 60');
      const cents = await admin.post({ ...form, zero_conf_max_value: '1.001' });
      expect(cents.statusCode).toBe(422);
      expect(cents.body).toContain('policy.zero_conf_max_value');
      const tiers = await admin.post({
        ...form,
        confirmation_tiers: '{"bitcoin-regtest":[{"max_value":"1.234","confirmations":1}]}',
      });
      expect(tiers.statusCode).toBe(422);
      expect(tiers.body).toContain('policy.confirmation_tiers.bitcoin-regtest[0].max_value');
      expect((await admin.post({ ...form, reason: '' })).statusCode).toBe(422);
      expect((await getMerchant(h.tally.database.db, h.merchantId)).policy).toEqual(before);

      const saved = await admin.post(form);
      expect(saved.statusCode).toBe(303);
      expect(saved.headers.location).toBe('/dashboard/settings?done=policy_update');
      const after = (await getMerchant(h.tally.database.db, h.merchantId)).policy;
      expect(after.expiry_seconds).toBe(1800);
      expect(after.underpayment_tolerance_bps).toBe(100);
      expect(after.confirmation_tiers['bitcoin-regtest']).toHaveLength(2);
      // The next invoice is made under the new policy.
      const inv = await h.request('POST', '/v1/invoices', {
        body: {
          price: { amount: '5.00', currency: 'USD' },
          payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        },
      });
      expect(inv.body.payment_options[0].required_confirmations).toBe(1);
      const [entry] = await listAudit(h.tally.database.db, h.merchantId, { limit: 1 });
      expect(entry?.action).toBe('settings.policy_update');
      expect(entry?.reason).toBe('fewer expired carts');
      expect(JSON.parse(entry?.details ?? '{}').changes.expiry_seconds).toEqual({
        from: before.expiry_seconds,
        to: 1800,
      });
    });

    it('users: invited with a one-time password, role changed, disabled, re-enabled; owners only by owners', async () => {
      const admin = await as('admin');
      const invited = await admin.post({
        action: 'user_create',
        email: 'New.Agent@s.test',
        role: 'support',
        reason: 'new hire',
      });
      expect(invited.statusCode).toBe(200);
      const password = secretOf(invited.body) ?? '';
      expect(password.length).toBeGreaterThanOrEqual(12);
      expect(await login('new.agent@s.test', password)).toBeTruthy();
      const dup = await admin.post({
        action: 'user_create',
        email: 'new.agent@s.test',
        role: 'support',
        reason: 'again',
      });
      expect(dup.statusCode).toBe(409);
      expect(dup.body).toContain('already exists');
      const owner = await admin.post({
        action: 'user_create',
        email: 'boss@s.test',
        role: 'owner',
        reason: 'x',
      });
      expect(owner.statusCode).toBe(403);
      expect(owner.body).toContain('role: the admin role may not assign owner');

      const users = await h.tally.database.db
        .selectFrom('users')
        .select(['id', 'email'])
        .where('merchant_id', '=', h.merchantId)
        .execute();
      const agent = users.find((u) => u.email === 'new.agent@s.test')?.id ?? '';
      const session = await login('new.agent@s.test', password);
      expect(
        (
          await admin.post({
            action: 'user_role',
            user_id: agent,
            role: 'finance',
            reason: 'moved to finance',
          })
        ).statusCode,
      ).toBe(303);
      expect(
        (await admin.post({ action: 'user_role', user_id: ids.owner ?? '', role: 'support', reason: 'coup' }))
          .statusCode,
      ).toBe(403);
      const self = await admin.post({ action: 'user_disable', user_id: ids.admin ?? '', reason: 'oops' });
      expect(self.statusCode).toBe(403);
      expect(self.body).toContain('user_id: you cannot change your own user');

      expect(
        (await admin.post({ action: 'user_disable', user_id: agent, reason: 'left the company' })).statusCode,
      ).toBe(303);
      // Signed out at once, and the old password no longer works.
      const stale = await inject({ method: 'GET', url: '/dashboard', headers: { cookie: session ?? '' } });
      expect(stale.statusCode).toBe(303);
      expect(await login('new.agent@s.test', password)).toBeNull();
      const disabledPage = (await admin.get('/dashboard/settings')).body;
      expect(disabledPage).toMatch(
        /new\.agent@s\.test · <span class="role">finance<\/span> · <strong>disabled<\/strong>/,
      );
      // For a disabled user the new-password button says that it enables them again.
      expect(disabledPage).toContain('Enable again, with a new password');

      const reset = await admin.post({ action: 'user_reset_password', user_id: agent, reason: 'came back' });
      expect(reset.statusCode).toBe(200);
      expect(reset.body).toContain('new.agent@s.test (enabled again)');
      expect(await login('new.agent@s.test', secretOf(reset.body) ?? '')).toBeTruthy();

      const boss = await as('owner');
      expect(
        (
          await boss.post({
            action: 'user_role',
            user_id: ids.admin ?? '',
            role: 'owner',
            reason: 'co-owner',
          })
        ).statusCode,
      ).toBe(303);

      const log = await listAudit(h.tally.database.db, h.merchantId, { limit: 100 });
      const actions = log.map((e) => e.action);
      for (const a of [
        'settings.user_create',
        'settings.user_role',
        'settings.user_disable',
        'settings.user_reset_password',
        'settings.webhook_create',
        'settings.webhook_rotate',
        'settings.webhook_disable',
        'settings.api_key_create',
        'settings.api_key_revoke',
      ])
        expect(actions).toContain(a);
      // Never a secret in the log.
      expect(JSON.stringify(log)).not.toMatch(/whsec_|tally_sk_/);
      expect(JSON.stringify(log)).not.toContain(password);
      expect((await verifyAudit(h.tally.database.db)).ok).toBe(true);
    });

    it('one email in two merchants switches store by signing in again there, password checked', async () => {
      const second = await h.newMerchant('Second Shop');
      const there = await createUser(
        h.tally.database.db,
        second.merchantId,
        'owner@s.test',
        'support',
        h.clock.now(),
      );
      await setPassword(h.tally.database, there.id, 'the other store password', h.clock.now());
      const cookie = (await login('owner@s.test')) ?? '';
      const home = await inject({ method: 'GET', url: '/dashboard', headers: { cookie } });
      expect(home.body).toContain('owner@s.test (owner)');
      expect(/<select id="switch-merchant" name="merchant_id">(.*?)<\/select>/.exec(home.body)?.[1]).toBe(
        `<option value="${second.merchantId}">Second Shop</option>`,
      );
      const token = /name="_csrf" value="([^"]+)"/.exec(home.body)?.[1] ?? '';
      const sw = (fields: Record<string, string>) =>
        inject({
          method: 'POST',
          url: '/dashboard/switch',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({ _csrf: token, ...fields }).toString(),
        });
      // The first store's password is not the second's; the session stays as it was.
      expect((await sw({ merchant_id: second.merchantId, password: PASSWORD })).statusCode).toBe(401);
      expect((await inject({ method: 'GET', url: '/dashboard', headers: { cookie } })).statusCode).toBe(200);
      expect(
        (await sw({ merchant_id: 'mer_00000000000000000000000000', password: PASSWORD })).statusCode,
      ).toBe(422);
      const ok = await sw({ merchant_id: second.merchantId, password: 'the other store password' });
      expect(ok.statusCode).toBe(303);
      const next = String(ok.headers['set-cookie']).split(';')[0] ?? '';
      expect((await inject({ method: 'GET', url: '/dashboard', headers: { cookie } })).statusCode).toBe(303);
      const there2 = await inject({ method: 'GET', url: '/dashboard', headers: { cookie: next } });
      expect(there2.body).toContain('owner@s.test (support)');
      expect(there2.body).toContain(`<option value="${h.merchantId}">Test Store</option>`);
      expect(
        (await inject({ method: 'GET', url: '/dashboard/settings', headers: { cookie: next } })).statusCode,
      ).toBe(403);
    });

    it('the refunds queue lists refunds awaiting action, linked to their timelines, and the timeline shows them', async () => {
      const inv = await h.request('POST', '/v1/invoices', {
        body: {
          price: { amount: '9.00', currency: 'USD' },
          payment_options: [{ asset: 'USDC', network: 'evm-devnet' }],
        },
      });
      expect(inv.status).toBe(201);
      const option = inv.body.payment_options[0];
      const refund = (status: string, amount: string) => ({
        id: newId('ref'),
        merchant_id: h.merchantId,
        invoice_id: inv.body.id,
        option_id: option.id,
        kind: 'partial',
        amount,
        asset: 'USDC',
        network: 'evm-devnet',
        destination: status === 'awaiting_destination' ? null : '0x000000000000000000000000000000000000dEaD',
        status,
        reason: `reason ${status}`,
        requested_by: 'key_test',
        approved_by: null,
        approval_reason: null,
        link_token_hash: null,
        unsigned_tx: null,
        fee_estimate: null,
        send_amount: null,
        txid: null,
        fee: null,
        created_at: iso(h.clock.now()),
        approved_at: null,
        completed_at: null,
        updated_at: iso(h.clock.now()),
      });
      // Rows as the refunds module writes them (issue 7); the dashboard only reads them.
      const rows = [
        refund('pending_approval', '1500000'),
        refund('awaiting_destination', '250000'),
        refund('completed', '1000000'),
      ];
      await h.tally.database.db.insertInto('refunds').values(rows).execute();
      const support = await as('support');
      const queue = await support.get('/dashboard?queue=refunds');
      expect(queue.body).toContain('data-queue="refunds">2<');
      const table = /<table id="refunds">[\s\S]*?<\/table>/.exec(queue.body)?.[0] ?? '';
      expect(table).toContain(rows[0]?.id);
      expect(table).toContain('1.5 USDC');
      expect(table).toContain(rows[1]?.id);
      expect(table).toContain('waiting for the customer’s address');
      expect(table).not.toContain(rows[2]?.id);
      expect(table).toContain(`href="/dashboard/invoices/${inv.body.id}"`);
      const timeline = await support.get(`/dashboard/invoices/${inv.body.id}`);
      for (const r of rows) expect(timeline.body).toContain(r.id);
      expect(timeline.body).toContain('reason completed');
    });
  });
}
