import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getMerchant } from '../../src/auth/merchants.ts';
import { signedIn } from '../helpers/dashboard-session.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { storeTiersDirectly } from '../helpers/stored-tiers.ts';

/**
 * The dashboard's policy form sends every stored confirmation tier back with any edit. Tiers
 * stored out of order before the order check existed must not block an edit of something else;
 * the tiers the form changes are checked as the API checks what a request sends.
 */
describe.each(DATABASES)('policy form with tiers stored out of order on $name', ({ fresh }) => {
  let h: Harness;
  let owner: Awaited<ReturnType<typeof signedIn>>;
  const disordered = [
    { max_value: '1000', confirmations: 1 },
    { max_value: '500', confirmations: 3 },
  ];
  beforeAll(async () => {
    h = await createHarness(await fresh());
    owner = await signedIn(h, 'owner@tiers.test', 'owner');
    await storeTiersDirectly(h, h.merchantId, { 'bitcoin-regtest': disordered });
  });
  afterAll(async () => h?.close());

  const submit = (fields: Record<string, string>) =>
    h.app.server.inject({
      method: 'POST',
      url: '/dashboard/settings',
      headers: { cookie: owner.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        action: 'policy_update',
        reason: 'test',
        _csrf: owner.csrf,
        ...fields,
      }).toString(),
    });

  it('saves an edit of another field with the stored tiers sent back unchanged', async () => {
    const res = await submit({
      expiry_seconds: '1200',
      confirmation_tiers: JSON.stringify({ 'bitcoin-regtest': disordered }),
    });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
    expect((await getMerchant(h.tally.database.db, h.merchantId)).policy.expiry_seconds).toBe(1200);
  });

  it('checks the tiers it changes, naming the unreachable one', async () => {
    const changed = [...disordered, { max_value: '200', confirmations: 6 }];
    const res = await submit({
      expiry_seconds: '900',
      confirmation_tiers: JSON.stringify({ 'bitcoin-regtest': changed }),
    });
    expect(res.statusCode).toBe(422);
    expect(res.body).toContain('policy.confirmation_tiers.bitcoin-regtest[1].max_value');
    expect((await getMerchant(h.tally.database.db, h.merchantId)).policy.expiry_seconds).toBe(1200);
  });
});
