import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * Revoking an API key as a merchant's script would: twice is the same answer as once (like
 * cancelling an invoice twice), the answer is the key as the list shows it, and the last active
 * admin key is never revoked through the API, which would lock the merchant out of it.
 */
for (const { name, fresh } of DATABASES) {
  describe(`API key revocation (${name})`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness(await fresh());
    });
    afterAll(async () => h?.close());

    const createKey = async (token: string, scopes: string[]) => {
      const res = await h.request('POST', '/v1/api-keys', {
        token,
        body: { name: `k-${scopes[0]}`, scopes },
      });
      expect(res.status).toBe(201);
      return res.body as { id: string; token: string };
    };

    it('answers the revoked key, the same way when revoked again', async () => {
      const key = await createKey(h.token, ['invoices:read']);
      const first = await h.request('POST', `/v1/api-keys/${key.id}/revoke`);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        id: key.id,
        object: 'api_key',
        name: 'k-invoices:read',
        scopes: ['invoices:read'],
        revoked: true,
      });
      expect(first.body.revoked_at).toEqual(expect.any(String));
      h.clock.advance(60_000);
      const again = await h.request('POST', `/v1/api-keys/${key.id}/revoke`);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body); // still revoked when it first was
      expect((await h.request('GET', '/v1/invoices', { token: key.token })).status).toBe(401);
    });

    it('answers 404 for a key that does not exist', async () => {
      const res = await h.request('POST', `/v1/api-keys/${newId('key')}/revoke`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    });

    it('refuses revoking the last admin key, and lets it once another admin key exists', async () => {
      const other = await h.newMerchant('Lockout Store');
      const alone = await h.request('POST', '/v1/api-keys', {
        token: other.token,
        body: { name: 'x', scopes: ['invoices:read'] },
      });
      expect(alone.status).toBe(201);
      const self = (await h.request('GET', '/v1/api-keys', { token: other.token })).body.data.find(
        (k: { id: string }) => k.id !== alone.body.id,
      );
      const refused = await h.request('POST', `/v1/api-keys/${self.id}/revoke`, { token: other.token });
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('invalid_state');
      expect(refused.body.error.message).toContain('last admin key');
      expect((await h.request('GET', '/v1/invoices', { token: other.token })).status).toBe(200);

      await createKey(other.token, ['admin']);
      const revoked = await h.request('POST', `/v1/api-keys/${self.id}/revoke`, { token: other.token });
      expect(revoked.status).toBe(200);
      expect((await h.request('GET', '/v1/invoices', { token: other.token })).status).toBe(401);
    });

    it('two admin keys revoking each other at once leave one of them working', async () => {
      const shop = await h.newMerchant('Mutual revoke');
      const first = (await h.request('GET', '/v1/api-keys', { token: shop.token })).body.data[0].id as string;
      const second = await createKey(shop.token, ['admin']);
      const answers = await Promise.all([
        h.request('POST', `/v1/api-keys/${second.id}/revoke`, { token: shop.token }),
        h.request('POST', `/v1/api-keys/${first}/revoke`, { token: second.token }),
      ]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
      const working = await Promise.all(
        [shop.token, second.token].map(
          async (t) => (await h.request('GET', '/v1/invoices', { token: t })).status,
        ),
      );
      expect(working.filter((s) => s === 200)).toHaveLength(1);
    });
  });
}
