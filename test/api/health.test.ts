import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, freshSqlite } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { expectError } from './route-fixtures.ts';

/** Liveness, readiness, metrics and the JSON 404: the endpoints operators and load balancers hit. */

/** The value of one series in Prometheus text, or 0 if absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const m = /^[^{]+\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const found = Object.fromEntries(
      [...(m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[2]);
  }
  return 0;
}

describe.each(DATABASES)('health and metrics on $name', ({ name, fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh());
  });
  afterAll(async () => h?.close());

  it('GET /healthz is 200 without an API key', async () => {
    const res = await h.request('GET', '/healthz', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz is 200 and names the database (no chain watcher configured: no chains)', async () => {
    const res = await h.request('GET', '/readyz', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', database: name, chains: [] });
  });

  it('GET /metrics is Prometheus text counting requests by route, method and status', async () => {
    const first = await h.app.server.inject({ method: 'GET', url: '/metrics' });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const labels = { route: '/healthz', method: 'GET', status: '200' };
    const before = sample(first.body, 'tally_http_requests_total', labels);
    await h.request('GET', '/healthz', { token: null });
    await h.request('GET', '/healthz', { token: null });
    await h.request('GET', '/v1/invoices', { token: null });
    const res = await h.app.server.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toContain('# TYPE tally_http_requests_total counter');
    expect(res.body).toContain('# TYPE tally_http_request_duration_seconds histogram');
    expect(sample(res.body, 'tally_http_requests_total', labels)).toBe(before + 2);
    // Labelled by the route pattern, with the refused request's status.
    expect(
      sample(res.body, 'tally_http_requests_total', { route: '/v1/invoices', method: 'GET', status: '401' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(res.body, 'tally_http_request_duration_seconds_count', { route: '/healthz', method: 'GET' }),
    ).toBe(before + 2);
  });

  it('labels requests by route pattern, not by id, so series do not grow per invoice', async () => {
    const created = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '1', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      },
    });
    await h.request('GET', `/v1/invoices/${created.body.id}`);
    const res = await h.app.server.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).not.toContain(created.body.id);
    expect(
      sample(res.body, 'tally_http_requests_total', {
        route: '/v1/invoices/:id',
        method: 'GET',
        status: '200',
      }),
    ).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['GET', '/nope'],
    ['GET', '/v1/nope'],
    ['POST', '/v1/nope'],
    ['DELETE', '/v1/invoices'],
    ['PUT', '/v1/merchant'],
    ['GET', '/v2/invoices'],
    ['GET', '/v1/invoices/inv_00000000000000000000000000/nope'],
  ])('%s %s → 404 route_not_found as JSON', async (method, url) => {
    const res = await h.request(method, url);
    expectError(res, { status: 404, code: 'route_not_found' });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.error.message).toContain(url);
  });

  it('counts unknown routes under one label, not one series per path', async () => {
    await h.request('GET', '/random-path-1');
    await h.request('GET', '/random-path-2');
    const res = await h.app.server.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).not.toContain('random-path');
    expect(
      sample(res.body, 'tally_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' }),
    ).toBeGreaterThanOrEqual(2);
  });
});

describe('readiness with the database gone', () => {
  it('GET /readyz is 503 service_unavailable while /healthz stays 200', async () => {
    const db = await freshSqlite();
    const h = await createHarness(db);
    try {
      await h.tally.database.close();
      const ready = await h.request('GET', '/readyz', { token: null });
      expectError(ready, { status: 503, code: 'service_unavailable' });
      const live = await h.request('GET', '/healthz', { token: null });
      expect(live.status).toBe(200);
    } finally {
      await h.app.server.close();
      await db.drop();
    }
  });
});

describe('validation messages', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await freshSqlite());
  });
  afterAll(async () => h?.close());

  it('say what a field must be, once per field', async () => {
    const amount = await h.request('POST', '/v1/invoices', {
      body: { price: { amount: '1e5', currency: 'USD' } },
    });
    expect(amount.body.error.details.issues).toEqual([
      {
        path: 'price.amount',
        message: 'must be a non-negative decimal string such as "12.34" (no sign, no exponent)',
      },
    ]);
    const status = await h.request('GET', '/v1/invoices?status=bogus');
    expect(status.body.error.details.issues).toHaveLength(1);
    expect(status.body.error.details.issues[0].message).toMatch(
      /^must be one of: created, awaiting_payment, .*refunded$/,
    );
    const limit = await h.request('GET', '/v1/invoices?limit=101');
    expect(limit.body.error.message).toBe('querystring.limit: must be a whole number from 1 to 100');
  });
});
