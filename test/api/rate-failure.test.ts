import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuoteSource } from '../../src/context.ts';
import { type Clock, ManualClock } from '../../src/core/clock.ts';
import { TallyError } from '../../src/core/errors.ts';
import { newId } from '../../src/core/ids.ts';
import { applyFact } from '../../src/invoices/apply-fact.ts';
import { FixedRateProvider, type Quote, type RateProvider, RateService } from '../../src/rates/index.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { countRows, expectError, snapshot } from './route-fixtures.ts';

/**
 * SCENARIOS case 29: no usable rate at creation → 503 rate_unavailable and no trace of the invoice
 * (no invoice, option, event, job, transition, idempotency record or allocated address).
 * SCENARIOS case 30: a USD-priced invoice stores the rate it was priced at, and keeps it.
 */

const usdForBtc = {
  price: { amount: '10.00', currency: 'USD' },
  payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
};
const HARNESS_START = new Date('2026-11-21T12:00:00Z');

/** The harness makes its own clock; rate services built before it read it through this. */
function lateClock(): Clock & { harness?: Harness } {
  const clock: Clock & { harness?: Harness } = {
    now: () => {
      if (!clock.harness) throw new Error('harness not set');
      return clock.harness.clock.now();
    },
  };
  return clock;
}

async function allocatedAddresses(h: Harness): Promise<number> {
  const row = await h.tally.database.db
    .selectFrom('wallet_addresses')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('option_id', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe.each(DATABASES)('rate failures on $name (SCENARIOS 29)', ({ fresh }) => {
  describe('rate source down', () => {
    let h: Harness;
    const source = {
      up: false,
      /** Assets whose rate stays unavailable even when `up`. */
      failing: new Set<string>(),
      calls: 0,
      async getQuote(base: string, quote: string): Promise<Quote> {
        source.calls++;
        if (!source.up || source.failing.has(base)) {
          throw new TallyError('rate_unavailable', `test feed: ${base}/${quote} unreachable`);
        }
        return new FixedRateProvider(undefined, h.clock).getQuote(base, quote);
      },
    } satisfies QuoteSource & Record<string, unknown>;

    beforeAll(async () => {
      h = await createHarness(await fresh(), { rates: source });
    });
    afterAll(async () => h?.close());

    it('answers 503 rate_unavailable and writes nothing at all', async () => {
      const before = await snapshot(h.tally);
      const callsBefore = source.calls;
      const res = await h.request('POST', '/v1/invoices', { body: usdForBtc });
      expectError(res, { status: 503, code: 'rate_unavailable' });
      expect(source.calls).toBeGreaterThan(callsBefore);
      const keyed = await h.request('POST', '/v1/invoices', {
        body: usdForBtc,
        headers: { 'idempotency-key': 'rates-down-1' },
      });
      expectError(keyed, { status: 503, code: 'rate_unavailable' });
      for (const table of [
        'invoices',
        'payment_options',
        'events',
        'jobs',
        'transitions',
        'idempotency_keys',
      ] as const) {
        expect(await countRows(h.tally, table), table).toBe(before[table]?.length);
      }
      expect(await allocatedAddresses(h)).toBe(0);
      expect(await snapshot(h.tally)).toEqual(before);
    });

    it('writes nothing when only the second option has no rate (all or nothing)', async () => {
      source.up = true;
      source.failing.add('ETH');
      try {
        const before = await snapshot(h.tally);
        const res = await h.request('POST', '/v1/invoices', {
          body: {
            price: { amount: '10.00', currency: 'USD' },
            payment_options: [
              { asset: 'BTC', network: 'bitcoin-regtest' },
              { asset: 'ETH', network: 'ethereum' },
            ],
          },
        });
        expectError(res, { status: 503, code: 'rate_unavailable' });
        expect(await allocatedAddresses(h)).toBe(0);
        expect(await snapshot(h.tally)).toEqual(before);
      } finally {
        source.failing.clear();
        source.up = false;
      }
    });

    it('still creates invoices priced in the asset itself, which need no rate', async () => {
      const res = await h.request('POST', '/v1/invoices', {
        body: { price: { amount: '0.001', currency: 'BTC' }, payment_options: usdForBtc.payment_options },
      });
      expect(res.status).toBe(201);
      expect(res.body.payment_options[0].rate).toBeNull();
    });

    it('lets the same Idempotency-Key succeed once the rate is back (the failure was not stored)', async () => {
      source.up = true;
      try {
        const res = await h.request('POST', '/v1/invoices', {
          body: usdForBtc,
          headers: { 'idempotency-key': 'rates-down-1' },
        });
        expect(res.status).toBe(201);
        expect(res.headers['idempotent-replayed']).toBeUndefined();
        expect(res.body.payment_options[0].amount_due_base_units).toBe('15385');
      } finally {
        source.up = false;
      }
    });
  });

  describe('stale quotes', () => {
    let h: Harness;
    const clock = lateClock();
    /** Answers with a price the source produced ten minutes ago. */
    const stale: RateProvider = {
      name: 'stale-feed',
      getQuote: async (base, quote) => ({
        base,
        quote,
        value: '65000',
        source: 'stale-feed',
        fetchedAt: new Date(clock.now().getTime() - 10 * 60_000),
      }),
    };
    /** A fixed table stamped with a clock that does not move: fresh now, stale once the harness clock moves on. */
    const frozen = new FixedRateProvider(undefined, new ManualClock(HARNESS_START));

    const service = {
      mode: 'stale' as 'stale' | 'frozen',
      stale: new RateService({ providers: [stale], clock, maxAgeMs: 60_000, cacheTtlMs: 0 }),
      frozen: new RateService({ providers: [frozen], clock, maxAgeMs: 60_000, cacheTtlMs: 0 }),
      getQuote: (base: string, quote: string) => service[service.mode].getQuote(base, quote),
    };

    beforeAll(async () => {
      h = await createHarness(await fresh(), { rates: service });
      clock.harness = h;
    });
    afterAll(async () => h?.close());

    it('refuses a quote older than the maximum age: 503 rate_unavailable naming the staleness', async () => {
      service.mode = 'stale';
      const before = await snapshot(h.tally);
      const res = await h.request('POST', '/v1/invoices', { body: usdForBtc });
      expectError(res, { status: 503, code: 'rate_unavailable' });
      expect(res.body.error.message).toMatch(/stale/);
      expect(res.body.error.details.tried[0]).toMatchObject({ source: 'stale-feed' });
      expect(await snapshot(h.tally)).toEqual(before);
    });

    it('uses a quote while fresh and refuses the same source once the clock has moved past its age', async () => {
      service.mode = 'frozen';
      h.clock.set(HARNESS_START);
      const fresh = await h.request('POST', '/v1/invoices', { body: usdForBtc });
      expect(fresh.status).toBe(201);
      expect(fresh.body.payment_options[0].rate.fetched_at).toBe(HARNESS_START.toISOString());
      h.clock.advance(61_000);
      const before = await snapshot(h.tally);
      const late = await h.request('POST', '/v1/invoices', { body: usdForBtc });
      expectError(late, { status: 503, code: 'rate_unavailable' });
      expect(await snapshot(h.tally)).toEqual(before);
    });
  });
});

describe.each(DATABASES)('locked rates on $name (SCENARIOS 30)', ({ fresh }) => {
  let h: Harness;
  const clock = lateClock();
  /** A feed whose price the test moves; it says it produced each price 20 s before it answers. */
  const feed = {
    name: 'moving-feed',
    value: '65000',
    async getQuote(base: string, quote: string): Promise<Quote> {
      if (base !== 'BTC' || quote !== 'USD')
        throw new TallyError('rate_unavailable', 'moving-feed: BTC/USD only');
      return {
        base,
        quote,
        value: feed.value,
        source: 'moving-feed',
        fetchedAt: new Date(clock.now().getTime() - 20_000),
      };
    },
  } satisfies RateProvider & { value: string };

  beforeAll(async () => {
    h = await createHarness(await fresh(), {
      rates: new RateService({ providers: [feed], clock, maxAgeMs: 60_000, cacheTtlMs: 0 }),
    });
    clock.harness = h;
  });
  afterAll(async () => h?.close());

  it('stores the rate (value, source, fetched_at) on the option and returns it unchanged after the source moves', async () => {
    const createdAt = h.clock.now();
    const res = await h.request('POST', '/v1/invoices', { body: usdForBtc });
    expect(res.status).toBe(201);
    const option = res.body.payment_options[0];
    const fetchedAt = new Date(createdAt.getTime() - 20_000).toISOString();
    expect(option.rate).toEqual({ value: '65000', source: 'moving-feed', fetched_at: fetchedAt });
    expect(option.amount_due_base_units).toBe('15385');

    const row = await h.tally.database.db
      .selectFrom('payment_options')
      .select(['rate_value', 'rate_source', 'rate_fetched_at', 'amount_due'])
      .where('id', '=', option.id)
      .executeTakeFirstOrThrow();
    expect(row.rate_value).toBe('65000');
    expect(row.rate_source).toBe('moving-feed');
    expect(new Date(row.rate_fetched_at as string).toISOString()).toBe(fetchedAt);
    expect(String(row.amount_due)).toBe('15385');

    feed.value = '50000';
    h.clock.advance(30_000);
    const later = await h.request('GET', `/v1/invoices/${res.body.id}`);
    expect(later.status).toBe(200);
    expect(later.body.payment_options).toEqual(res.body.payment_options);
    expect(later.body.price).toEqual(res.body.price);

    // The source really moved: a new invoice is priced at the new rate.
    const next = await h.request('POST', '/v1/invoices', { body: usdForBtc });
    expect(next.body.payment_options[0].rate.value).toBe('50000');
    expect(next.body.payment_options[0].amount_due_base_units).toBe('20000');

    // A late payment of the locked amount settles it in full at the locked rate.
    h.clock.advance(16 * 60_000);
    await h.worker.runDue();
    expect((await h.request('GET', `/v1/invoices/${res.body.id}`)).body.status).toBe('expired');
    const outcome = await applyFact(h.tally, h.merchantId, res.body.id, {
      kind: 'payment_seen',
      id: 'late-payment',
      payment: {
        paymentId: newId('pay'),
        optionId: option.id,
        txid: 'ef'.repeat(32),
        outputIndex: 0,
        amount: 15385n,
        rbf: false,
        confirmations: 6,
        blockHash: '12'.repeat(32),
        blockHeight: 200,
      },
    });
    expect(outcome.changed).toBe(true);
    const settled = await h.request('GET', `/v1/invoices/${res.body.id}`);
    expect(settled.body.status).toBe('late_paid');
    expect(settled.body.payment_options[0].rate).toEqual(option.rate);
  });
});
