import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_ROUTES } from '../../src/api/routes/index.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { countRows, expectError } from './route-fixtures.ts';

/**
 * SCENARIOS case 25: the same Idempotency-Key and body give the same invoice (replayed, marked
 * `idempotent-replayed: true`); a different body is 422; a concurrent duplicate is 409 or a replay,
 * never a second invoice. Keys are scoped to the merchant.
 */

const body = (amount = '12.50', order = 'idem-1') => ({
  price: { amount, currency: 'USD' },
  payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
  merchant_order_id: order,
});

describe.each(DATABASES)('Idempotency-Key on $name (SCENARIOS 25)', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh());
  });
  afterAll(async () => h?.close());

  const invoicesWithOrder = async (order: string) =>
    (
      await h.tally.database.db
        .selectFrom('invoices')
        .select('id')
        .where('merchant_order_id', '=', order)
        .execute()
    ).map((r) => r.id);

  it('replays the same invoice for the same key and body, with one row and the replay header', async () => {
    const headers = { 'idempotency-key': 'order-1001-attempt' };
    const first = await h.request('POST', '/v1/invoices', { body: body(), headers });
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await h.request('POST', '/v1/invoices', { body: body(), headers });
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    // Same body in another key order is the same request.
    const reordered = {
      merchant_order_id: 'idem-1',
      payment_options: [{ network: 'bitcoin-regtest', asset: 'BTC' }],
      price: { currency: 'USD', amount: '12.50' },
    };
    const third = await h.request('POST', '/v1/invoices', { body: reordered, headers });
    expect(third.status).toBe(201);
    expect(third.body.id).toBe(first.body.id);
    expect(await invoicesWithOrder('idem-1')).toEqual([first.body.id]);
    expect(await countRows(h.tally, 'idempotency_keys')).toBe(1);
  });

  it('refuses the same key with a different body: 422 idempotency_key_reused, nothing created', async () => {
    const headers = { 'idempotency-key': 'reuse-me' };
    const first = await h.request('POST', '/v1/invoices', { body: body('5.00', 'idem-2'), headers });
    expect(first.status).toBe(201);
    const before = await countRows(h.tally, 'invoices');
    const other = await h.request('POST', '/v1/invoices', { body: body('6.00', 'idem-2'), headers });
    expectError(other, { status: 422, code: 'idempotency_key_reused' });
    expect(other.headers['idempotent-replayed']).toBeUndefined();
    // The same key on another creating route is a different request too.
    const wallet = await h.request('POST', '/v1/wallets', {
      body: { scope: 'bitcoin-testnet', xpub: 'tpub-whatever' },
      headers,
    });
    expectError(wallet, { status: 422, code: 'idempotency_key_reused' });
    expect(await countRows(h.tally, 'invoices')).toBe(before);
    expect(await invoicesWithOrder('idem-2')).toEqual([first.body.id]);
  });

  it('answers concurrent requests with one key with one 201 and a 409 or replay, never two invoices', async () => {
    let conflicts = 0;
    for (let round = 0; round < 5; round++) {
      const order = `race-${round}`;
      const headers = { 'idempotency-key': `race-key-${round}` };
      const racers = Array.from({ length: 4 }, () =>
        h.request('POST', '/v1/invoices', { body: body('7.00', order), headers }),
      );
      const results = await Promise.all(racers);
      const created = results.filter(
        (r) => r.status === 201 && r.headers['idempotent-replayed'] === undefined,
      );
      const replayed = results.filter((r) => r.status === 201 && r.headers['idempotent-replayed'] === 'true');
      const inUse = results.filter((r) => r.status === 409);
      expect(created).toHaveLength(1);
      expect(created.length + replayed.length + inUse.length).toBe(results.length);
      for (const r of inUse) expectError(r, { status: 409, code: 'idempotency_key_in_use' });
      conflicts += inUse.length;
      for (const r of replayed) expect(r.body.id).toBe(created[0]?.body.id);
      expect(await invoicesWithOrder(order)).toEqual([created[0]?.body.id]);
      // Once the first has finished, the key replays.
      const after = await h.request('POST', '/v1/invoices', { body: body('7.00', order), headers });
      expect(after.headers['idempotent-replayed']).toBe('true');
      expect(after.body.id).toBe(created[0]?.body.id);
    }
    // The requests really overlapped: the in-flight guard, not luck, kept it to one invoice.
    expect(conflicts).toBeGreaterThan(0);
  });

  it('answers the second of two un-awaited injects with 409 idempotency_key_in_use', async () => {
    const headers = {
      authorization: `Bearer ${h.token}`,
      'content-type': 'application/json',
      'idempotency-key': 'inject-race',
    };
    const payload = JSON.stringify(body('8.00', 'inject-race'));
    const first = h.app.server.inject({ method: 'POST', url: '/v1/invoices', headers, payload });
    const second = h.app.server.inject({ method: 'POST', url: '/v1/invoices', headers, payload });
    const [a, b] = await Promise.all([first, second]);
    const statuses = [a.statusCode, b.statusCode].sort();
    expect(statuses[0]).toBe(201);
    expect([201, 409]).toContain(statuses[1]);
    const loser = a.statusCode === 201 && !a.headers['idempotent-replayed'] ? b : a;
    if (loser.statusCode === 409) expect(JSON.parse(loser.body).error.code).toBe('idempotency_key_in_use');
    else expect(loser.headers['idempotent-replayed']).toBe('true');
    expect(await invoicesWithOrder('inject-race')).toHaveLength(1);
  });

  it.each([
    ['a space inside', 'has space'],
    ['a non-ASCII character', 'clé'],
    ['a control character', 'tab\there'],
    ['256 characters', 'k'.repeat(256)],
    ['nothing', ''],
  ])('refuses a key with %s: 422 naming header.idempotency-key, nothing created', async (_label, key) => {
    const before = await countRows(h.tally, 'invoices');
    const res = await h.app.server.inject({
      method: 'POST',
      url: '/v1/invoices',
      headers: {
        authorization: `Bearer ${h.token}`,
        'content-type': 'application/json',
        'idempotency-key': Buffer.from(key, 'utf8').toString('latin1'),
      },
      payload: JSON.stringify(body('9.00', 'bad-key')),
    });
    expectError(
      { status: res.statusCode, body: JSON.parse(res.body) },
      { status: 422, code: 'validation_failed', path: 'header.idempotency-key' },
    );
    expect(await countRows(h.tally, 'invoices')).toBe(before);
  });

  it('accepts a key of 255 visible ASCII characters', async () => {
    const res = await h.request('POST', '/v1/invoices', {
      body: body('9.50', 'long-key'),
      headers: { 'idempotency-key': `${'!~'.repeat(127)}x` },
    });
    expect(res.status).toBe(201);
  });

  it('scopes keys to the merchant: B reuses A’s key and gets its own invoice', async () => {
    const headers = { 'idempotency-key': 'shared-key' };
    const mine = await h.request('POST', '/v1/invoices', { body: body('3.00', 'shared'), headers });
    expect(mine.status).toBe(201);
    const other = await h.newMerchant('Merchant B');
    const theirs = await h.request('POST', '/v1/invoices', {
      token: other.token,
      body: body('3.00', 'shared'),
      headers,
    });
    expect(theirs.status).toBe(201);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.body.id).not.toBe(mine.body.id);
    const bDifferent = await h.request('POST', '/v1/invoices', {
      token: other.token,
      body: body('4.00', 'shared-b'),
      headers,
    });
    expectError(bDifferent, { status: 422, code: 'idempotency_key_reused' });
    // A's replay is still A's invoice.
    const replay = await h.request('POST', '/v1/invoices', { body: body('3.00', 'shared'), headers });
    expect(replay.body.id).toBe(mine.body.id);
    const ownerOf = await h.tally.database.db
      .selectFrom('invoices')
      .select(['id', 'merchant_id'])
      .where('merchant_order_id', '=', 'shared')
      .execute();
    expect(ownerOf.map((r) => r.merchant_id).sort()).toEqual([h.merchantId, other.merchantId].sort());
  });

  it('does not store a response for a request that failed, so the key can be retried', async () => {
    const headers = { 'idempotency-key': 'retry-after-422' };
    const bad = await h.request('POST', '/v1/invoices', {
      body: { ...body('1.00', 'retry'), payment_options: [{ asset: 'BTC', network: 'bitcoin' }] },
      headers,
    });
    expect(bad.status).toBe(422);
    const good = await h.request('POST', '/v1/invoices', { body: body('1.00', 'retry'), headers });
    expect(good.status).toBe(201);
    expect(good.headers['idempotent-replayed']).toBeUndefined();
  });

  it('never stores an API key secret: the replay of a key creation omits the token', async () => {
    const headers = { 'idempotency-key': 'create-key-once' };
    const request = { name: 'deploy bot', scopes: ['invoices:read'] };
    const first = await h.request('POST', '/v1/api-keys', { body: request, headers });
    expect(first.status).toBe(201);
    expect(first.body.token).toMatch(/^tally_sk_key_/);
    expect((await h.request('GET', '/v1/merchant', { token: first.body.token })).status).toBe(200);
    const secret = String(first.body.token).slice(`tally_sk_${first.body.id}_`.length);
    expect(secret).toHaveLength(43);
    const stored = await h.tally.database.db.selectFrom('idempotency_keys').select('response_body').execute();
    expect(stored.filter((r) => r.response_body.includes(secret))).toEqual([]);

    const replay = await h.request('POST', '/v1/api-keys', { body: request, headers });
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toMatchObject({ id: first.body.id, name: 'deploy bot', token: null });
    const keys = await h.tally.database.db
      .selectFrom('api_keys')
      .select('id')
      .where('name', '=', 'deploy bot')
      .execute();
    expect(keys).toHaveLength(1);
  });

  it('marks only POST routes idempotent, invoice creation among them', () => {
    const idempotent = ALL_ROUTES.filter((r) => r.idempotent).map((r) => `${r.method} ${r.url}`);
    expect(idempotent).toContain('POST /v1/invoices');
    for (const route of ALL_ROUTES.filter((r) => r.idempotent)) expect(route.method).toBe('POST');
  });
});
