import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteDef } from '../../src/api/route.ts';
import { ALL_ROUTES } from '../../src/api/routes/index.ts';
import { sequenceAll } from '../../src/webhooks/outbox-sequencer.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import {
  expectError,
  idPrefixOf,
  type MerchantFixture,
  merchantWithEverything,
  snapshot,
  urlWithId,
  validBodyFor,
} from './route-fixtures.ts';

/**
 * SCENARIOS case 27: merchant A's key asking for anything of merchant B's gets 404, exactly as if
 * it did not exist, and A's lists never show B's records. Routes are enumerated from ALL_ROUTES:
 * a new `:id` route whose id kind has no fixture here fails the suite rather than going untested.
 */

const ID_ROUTES = ALL_ROUTES.filter((r) => r.url.includes(':id'));
const LIST_ROUTES = ALL_ROUTES.filter((r) => r.method === 'GET' && !r.url.includes(':'));

/** Every id-like value of a merchant's rows (ids, foreign ids), for "never leaks" checks. */
function idsIn(rows: Record<string, unknown[]>): Set<string> {
  const out = new Set<string>();
  for (const table of Object.values(rows)) {
    for (const row of table as Record<string, unknown>[]) {
      for (const [column, value] of Object.entries(row)) {
        if (
          typeof value === 'string' &&
          (column === 'id' || column.endsWith('_id')) &&
          /^[a-z]{3}_/.test(value)
        )
          out.add(value);
      }
    }
  }
  return out;
}

function keyIdOf(token: string): string {
  const id = /^tally_sk_(key_[0-9a-z]{26})_/.exec(token)?.[1];
  if (!id) throw new Error('unexpected token shape');
  return id;
}

/** The ids of B to aim each `:id` route at; several where a route could behave differently. */
function targetsOf(route: RouteDef, b: MerchantFixture): string[] {
  const prefix = idPrefixOf(route);
  const extra: Record<string, string[]> = {
    inv: [b.paidInvoiceId],
    key: [keyIdOf(b.token)],
  };
  const id = b.ids[prefix];
  if (!id)
    throw new Error(`${route.method} ${route.url}: no id of merchant B for prefix "${prefix}"; add one`);
  return [id, ...(extra[prefix] ?? [])];
}

describe.each(DATABASES)('tenant isolation on $name (SCENARIOS 27)', ({ fresh }) => {
  let h: Harness;
  let a: MerchantFixture;
  let b: MerchantFixture;
  let bBefore: Record<string, unknown[]>;
  let bIds: Set<string>;
  let aIds: Set<string>;

  beforeAll(async () => {
    h = await createHarness(await fresh());
    a = await merchantWithEverything(h, { merchantId: h.merchantId, token: h.token }, 'a');
    b = await merchantWithEverything(h, undefined, 'b');
    // A running gateway numbers committed events in the background (the outbox sequencer); do it
    // now so that A's reads of the feed, which catch the sequencer up, change nothing of B's.
    await sequenceAll(h.tally.database, h.clock.now());
    bBefore = await snapshot(h.tally, b.merchantId);
    bIds = idsIn(bBefore);
    aIds = idsIn(await snapshot(h.tally, a.merchantId));
  });
  afterAll(async () => h?.close());

  it('has two fully populated merchants with disjoint ids', () => {
    for (const fx of [a, b]) {
      for (const prefix of ['mer', 'inv', 'wal', 'key', 'usr', 'exc', 'evt'])
        expect(fx.ids[prefix]).toBeTruthy();
    }
    expect(bIds.size).toBeGreaterThan(10);
    expect([...bIds].filter((id) => aIds.has(id))).toEqual([]);
  });

  it('covers every :id route in ALL_ROUTES', () => {
    expect(ID_ROUTES.length).toBeGreaterThanOrEqual(10);
    for (const route of ID_ROUTES) expect(targetsOf(route, b).length).toBeGreaterThan(0);
  });

  it("reaches each of B's ids with B's own key (so A's 404s are about ownership)", async () => {
    for (const route of ID_ROUTES.filter((r) => r.method === 'GET')) {
      for (const id of targetsOf(route, b)) {
        if (idPrefixOf(route) === 'key') continue;
        const res = await h.request('GET', urlWithId(route, id), { token: b.token });
        expect(res.status, `${route.url} ${id}`).toBe(200);
      }
    }
  });

  it.each(ID_ROUTES.map((r) => ({ route: r, label: `${r.method} ${r.url}` })))(
    "$label with A's key and B's id → 404 not_found, nothing of B's shown",
    async ({ route }) => {
      for (const id of targetsOf(route, b)) {
        const res = await h.request(route.method, urlWithId(route, id), {
          token: a.token,
          ...(route.body ? { body: validBodyFor(route) } : {}),
        });
        expectError(res, { status: 404, code: 'not_found' });
        const text = JSON.stringify(res.body);
        const leaked = [...bIds].filter((other) => other !== id && text.includes(other));
        expect(leaked, `${route.url} ${id}`).toEqual([]);
      }
    },
  );

  it.each(LIST_ROUTES.map((r) => ({ route: r, label: `${r.method} ${r.url}` })))(
    "$label with A's key never contains B's ids",
    async ({ route }) => {
      const res = await h.request('GET', route.url, { token: a.token });
      expect(res.status).toBe(200);
      const text = JSON.stringify(res.body);
      expect([...bIds].filter((id) => text.includes(id))).toEqual([]);
      // Not vacuous: every authenticated list shows A's own records.
      if (route.scope !== null) expect([...aIds].some((id) => text.includes(id))).toBe(true);
    },
  );

  it("filters and cursors that name B's records return none of them", async () => {
    const queries = [
      '/v1/invoices?merchant_order_id=b-open',
      '/v1/invoices?merchant_order_id=b-paid',
      '/v1/invoices?status=overpaid',
      '/v1/invoices?customer_id=b-customer',
      `/v1/invoices?starting_after=${b.invoiceId.replace(/.$/, 'z')}`,
      `/v1/events?starting_after=${b.eventId.replace(/[0-9a-z]{16}$/, '0'.repeat(16))}`,
      '/v1/events?type=exception.opened',
      '/v1/exceptions?kind=overpayment',
      '/v1/exceptions?status=open',
      `/v1/invoices/${a.invoiceId}/events?starting_after=${b.eventId.replace(/[0-9a-z]{16}$/, '0'.repeat(16))}`,
    ];
    for (const url of queries) {
      const res = await h.request('GET', url, { token: a.token });
      // An event cursor must name one of the caller's own events: B's is refused like a typo
      // (422 on starting_after), never answered with an empty page a poller would trust.
      expect(res.status, url).toBe(url.includes('events?starting_after=') ? 422 : 200);
      const text = JSON.stringify(res.body);
      expect(
        [...bIds].filter((id) => text.includes(id)),
        url,
      ).toEqual([]);
    }
    const byOrder = await h.request('GET', '/v1/invoices?merchant_order_id=b-open', { token: a.token });
    expect(byOrder.body.data).toEqual([]);
    const mine = await h.request('GET', '/v1/invoices?merchant_order_id=a-open', { token: a.token });
    expect(mine.body.data.map((i: { id: string }) => i.id)).toEqual([a.invoiceId]);
  });

  it("left every one of B's records as it was, and B's key still works", async () => {
    expect(await snapshot(h.tally, b.merchantId)).toEqual(bBefore);
    const res = await h.request('GET', `/v1/invoices/${b.invoiceId}`, { token: b.token });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('awaiting_payment');
  });
});
