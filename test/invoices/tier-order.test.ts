/**
 * Confirmation tiers are matched in order (the first whose max_value covers the invoice), so a
 * request whose tiers leave one unreachable is refused, naming the tier: merchant policy and
 * per-invoice overrides alike. Only the tiers a request sends are checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { storeTiersDirectly } from '../helpers/stored-tiers.ts';

type Tier = { max_value: string | null; confirmations: number };
const tiers = (...list: Array<[string | null, number]>): Tier[] =>
  list.map(([max_value, confirmations]) => ({ max_value, confirmations }));

describe.each(DATABASES)('confirmation tier order on $name', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh());
  });
  afterAll(async () => h?.close());

  const patchTiers = (list: Tier[], token?: string) =>
    h.request('PATCH', '/v1/merchant', {
      ...(token ? { token } : {}),
      body: { policy: { confirmation_tiers: { 'bitcoin-regtest': list } } },
    });

  it('refuses merchant tiers a later one of which could never apply, naming that tier; stores nothing', async () => {
    const before = (await h.request('GET', '/v1/merchant')).body.policy;
    const cases: Array<[Tier[], string, RegExp]> = [
      // The tester's case: the ≤500 tier after the ≤1000 one is dead.
      [
        tiers(['1000', 1], ['500', 3], [null, 6]),
        '[1].max_value',
        /greater than the previous tier's max_value "1000"/,
      ],
      // Equal values, however written: the second is dead too.
      [tiers(['500', 1], ['500.00', 3]), '[1].max_value', /greater than the previous/],
      // Compared as amounts, not as strings ("999.99" sorts after "1000" as text).
      [tiers(['100', 1], ['1000', 2], ['999.99', 3]), '[2].max_value', /greater than the previous/],
      // The unbounded tier takes every value: anything after it is dead.
      [tiers([null, 6], ['500', 1]), '[0].max_value', /must be the last tier/],
      [tiers(['10', 1], [null, 3], [null, 6]), '[1].max_value', /must be the last tier/],
    ];
    for (const [list, at, message] of cases) {
      const res = await patchTiers(list);
      expect(res.status, JSON.stringify(list)).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details.issues).toHaveLength(1);
      expect(res.body.error.details.issues[0].path).toBe(`policy.confirmation_tiers.bitcoin-regtest${at}`);
      expect(res.body.error.details.issues[0].message).toMatch(message);
    }
    expect((await h.request('GET', '/v1/merchant')).body.policy).toEqual(before);
  });

  it('accepts increasing tiers, and each applies to its values', async () => {
    const ok = await patchTiers(tiers(['500', 1], ['1000', 3], [null, 6]));
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const depthFor = async (amount: string) => {
      const res = await h.request('POST', '/v1/invoices', {
        body: {
          price: { amount, currency: 'USD' },
          payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.payment_options[0].required_confirmations;
    };
    expect(await depthFor('300')).toBe(1);
    expect(await depthFor('700')).toBe(3);
    expect(await depthFor('5000')).toBe(6);
    await h.request('PATCH', '/v1/merchant', { body: { policy: { confirmation_tiers: {} } } });
  });

  it('refuses a per-invoice override with tiers out of order, and creates nothing', async () => {
    const count = async () => (await h.request('GET', '/v1/invoices?limit=100')).body.data.length;
    const before = await count();
    const res = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '300', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        policy: { confirmation_tiers: { 'bitcoin-regtest': tiers(['1000', 1], ['500', 3]) } },
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details.issues[0].path).toBe(
      'policy.confirmation_tiers.bitcoin-regtest[1].max_value',
    );
    const unbounded = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '300', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        policy: { confirmation_tiers: { 'bitcoin-regtest': tiers([null, 2], ['500', 1]) } },
      },
    });
    expect(unbounded.status).toBe(422);
    expect(unbounded.body.error.details.issues[0].path).toBe(
      'policy.confirmation_tiers.bitcoin-regtest[0].max_value',
    );
    expect(await count()).toBe(before);
  });

  it('checks only the tiers a request sends: disordered tiers stored earlier do not block other changes', async () => {
    const { merchantId, token } = await h.newMerchant('stored disordered tiers');
    await storeTiersDirectly(h, merchantId, { 'bitcoin-regtest': tiers(['1000', 1], ['500', 3]) });
    const invoice = await h.request('POST', '/v1/invoices', {
      token,
      body: {
        price: { amount: '5', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        policy: { underpayment_tolerance_bps: 10 },
      },
    });
    expect(invoice.status, JSON.stringify(invoice.body)).toBe(201);
    const patched = await h.request('PATCH', '/v1/merchant', {
      token,
      body: { policy: { expiry_seconds: 600 } },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    // Sending tiers replaces them, and what is sent is checked.
    expect((await patchTiers(tiers(['1000', 1], ['500', 3]), token)).status).toBe(422);
    // More confirmations for the lower tier is allowed: odd, but every tier still applies to its values.
    const fixed = await patchTiers(tiers(['500', 3], ['1000', 1]), token);
    expect(fixed.status, JSON.stringify(fixed.body)).toBe(200);
    expect(fixed.body.policy.confirmation_tiers['bitcoin-regtest']).toEqual(tiers(['500', 3], ['1000', 1]));
  });
});
