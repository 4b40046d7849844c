import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { TallyError } from '../../src/core/errors.ts';
import { RateService } from '../../src/rates/rate-service.ts';
import { expectRateUnavailable } from './helpers/local-server.ts';
import { ScriptedProvider } from './helpers/scripted-provider.ts';

const MAX_AGE = 60_000;

function setup(options: { cacheTtlMs?: number; maxFutureSkewMs?: number } = {}) {
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 12, 0, 0));
  const first = new ScriptedProvider('first', clock, '65000.1');
  const second = new ScriptedProvider('second', clock, '65000.2');
  const third = new ScriptedProvider('third', clock, '65000.3');
  const service = new RateService({
    providers: [first, second, third],
    maxAgeMs: MAX_AGE,
    clock,
    cacheTtlMs: options.cacheTtlMs ?? 0,
    ...(options.maxFutureSkewMs === undefined ? {} : { maxFutureSkewMs: options.maxFutureSkewMs }),
  });
  return { clock, first, second, third, service };
}

describe('RateService: order and fallback', () => {
  it('uses the first provider that answers and asks no one else', async () => {
    const { first, second, third, service } = setup();
    const quote = await service.getQuote('BTC', 'USD');
    expect(quote).toMatchObject({ base: 'BTC', quote: 'USD', value: '65000.1', source: 'first' });
    expect([first.calls, second.calls, third.calls]).toEqual([['BTC/USD'], [], []]);
  });

  it('falls back in the configured order', async () => {
    const { first, second, third, service } = setup();
    first.fails('HTTP 500');
    second.fails('timeout');
    const quote = await service.getQuote('BTC', 'USD');
    expect(quote.source).toBe('third');
    expect(quote.value).toBe('65000.3');
    expect([first.calls.length, second.calls.length, third.calls.length]).toEqual([1, 1, 1]);
  });

  it('falls back past a provider that throws a non-Tally error (a bug must not price an invoice)', async () => {
    const { first, service } = setup();
    first.throws(new TypeError('cannot read properties of undefined'));
    expect((await service.getQuote('BTC', 'USD')).source).toBe('second');
  });

  it('falls back when a provider answers for the wrong pair', async () => {
    const { clock, first, service } = setup();
    first.answersWith((_b, quote) => ({
      base: 'ETH',
      quote,
      value: '3200',
      source: 'first',
      fetchedAt: clock.now(),
    }));
    expect((await service.getQuote('BTC', 'USD')).source).toBe('second');
  });

  it.each(['0', '-65000', '6.5e4', '', 'NaN', '65,000'])(
    'falls back when a provider answers the value %j',
    async (value) => {
      const { first, service } = setup();
      first.answers(value);
      expect((await service.getQuote('BTC', 'USD')).source).toBe('second');
    },
  );
});

describe('RateService: staleness', () => {
  it('accepts a quote exactly maxAgeMs old', async () => {
    const { first, service } = setup();
    first.answers('65000.1', MAX_AGE);
    expect((await service.getQuote('BTC', 'USD')).source).toBe('first');
  });

  it('refuses a quote one millisecond older than maxAgeMs and falls back', async () => {
    const { first, service } = setup();
    first.answers('65000.1', MAX_AGE + 1);
    expect((await service.getQuote('BTC', 'USD')).source).toBe('second');
  });

  it('refuses a quote from the future beyond the skew, accepts one within it', async () => {
    const { first, service } = setup({ maxFutureSkewMs: 2_000 });
    first.answers('65000.1', -2_000);
    expect((await service.getQuote('BTC', 'USD')).source).toBe('first');
    first.answers('65000.1', -2_001);
    expect((await service.getQuote('BTC', 'USD')).source).toBe('second');
  });

  it('refuses an invalid fetchedAt', async () => {
    const { first, service } = setup();
    first.answersWith((base, quote) => ({
      base,
      quote,
      value: '1',
      source: 'first',
      fetchedAt: new Date(Number.NaN),
    }));
    expect((await service.getQuote('BTC', 'USD')).source).toBe('second');
  });
});

describe('RateService: failing closed', () => {
  it('fails with rate_unavailable listing every attempt in order', async () => {
    const { first, second, third, service } = setup();
    first.fails('HTTP 500 for XBTUSD');
    second.answers('65000.2', MAX_AGE + 5_000);
    third.answers('-1');
    const error = await expectRateUnavailable(
      service.getQuote('BTC', 'USD'),
      /^No fresh BTC\/USD rate\. first: HTTP 500/,
    );
    expect(error.status).toBe(503);
    expect(error.details).toEqual({
      tried: [
        { source: 'first', reason: 'HTTP 500 for XBTUSD' },
        { source: 'second', reason: 'stale: 65000 ms old (limit 60000 ms)' },
        { source: 'third', reason: 'not a positive decimal rate ("-1")' },
      ],
    });
  });

  it('stops trying once the caller aborts', async () => {
    const { first, second, service } = setup();
    const controller = new AbortController();
    first.answersWith(() => {
      controller.abort();
      throw new Error('aborted');
    });
    const error = await expectRateUnavailable(
      service.getQuote('BTC', 'USD', controller.signal),
      /\(aborted\)/,
    );
    expect(second.calls).toEqual([]);
    expect(error.details).toEqual({ tried: [{ source: 'first', reason: 'Error: aborted' }] });
  });

  it('refuses malformed pair codes without calling a provider', async () => {
    const { first, service } = setup();
    await expectRateUnavailable(service.getQuote('btc', 'USD'), /invalid pair/);
    await expectRateUnavailable(service.getQuote('BTC/../', 'USD'), /invalid pair/);
    expect(first.calls).toEqual([]);
  });

  it('needs at least one provider and sane limits', () => {
    const clock = new ManualClock();
    expect(() => new RateService({ providers: [], maxAgeMs: 1, clock })).toThrow(/at least one provider/);
    const p = new ScriptedProvider('p', clock);
    expect(() => new RateService({ providers: [p], maxAgeMs: -1, clock })).toThrow(/maxAgeMs/);
    expect(() => new RateService({ providers: [p], maxAgeMs: Number.NaN, clock })).toThrow(/maxAgeMs/);
  });
});

describe('RateService: same asset', () => {
  it('answers "1" for base === quote without calling any provider', async () => {
    const { clock, first, service } = setup();
    expect(await service.getQuote('USDC', 'USDC')).toEqual({
      base: 'USDC',
      quote: 'USDC',
      value: '1',
      source: 'identity',
      fetchedAt: clock.now(),
    });
    expect(first.calls).toEqual([]);
  });
});

describe('RateService: cache', () => {
  it('reuses an accepted quote for the same pair within the TTL', async () => {
    const { clock, first, service } = setup({ cacheTtlMs: 5_000 });
    const a = await service.getQuote('BTC', 'USD');
    clock.advance(4_999);
    first.answers('70000');
    const b = await service.getQuote('BTC', 'USD');
    expect(b).toEqual(a);
    expect(first.calls).toHaveLength(1);
  });

  it('asks again once the TTL has passed', async () => {
    const { clock, first, service } = setup({ cacheTtlMs: 5_000 });
    await service.getQuote('BTC', 'USD');
    clock.advance(5_000);
    first.answers('70000');
    expect((await service.getQuote('BTC', 'USD')).value).toBe('70000');
    expect(first.calls).toHaveLength(2);
  });

  it('keys the cache by pair', async () => {
    const { first, service } = setup({ cacheTtlMs: 5_000 });
    await service.getQuote('BTC', 'USD');
    await service.getQuote('BTC', 'EUR');
    expect(first.calls).toEqual(['BTC/USD', 'BTC/EUR']);
  });

  it('never returns a cached quote that has become stale, even inside the TTL', async () => {
    const { clock, first, second, service } = setup({ cacheTtlMs: 30_000 });
    first.answers('65000.1', MAX_AGE - 1_000); // accepted, 59 s old
    expect((await service.getQuote('BTC', 'USD')).source).toBe('first');
    clock.advance(2_000); // inside the TTL, but the quote is now 61 s old
    first.fails('down');
    const quote = await service.getQuote('BTC', 'USD');
    expect(quote.source).toBe('second');
    expect(first.calls).toHaveLength(2);
    expect(second.calls).toHaveLength(1);
  });

  it('does not cache failures', async () => {
    const { first, second, third, service } = setup({ cacheTtlMs: 5_000 });
    for (const p of [first, second, third]) p.fails('down');
    await expect(service.getQuote('BTC', 'USD')).rejects.toBeInstanceOf(TallyError);
    first.answers('65000.1');
    expect((await service.getQuote('BTC', 'USD')).value).toBe('65000.1');
  });

  it('hands out copies, so a caller mutating a quote cannot poison the cache', async () => {
    const { service } = setup({ cacheTtlMs: 5_000 });
    const a = await service.getQuote('BTC', 'USD');
    a.value = '1';
    a.fetchedAt.setTime(0);
    const b = await service.getQuote('BTC', 'USD');
    expect(b.value).toBe('65000.1');
    expect(b.fetchedAt.getTime()).toBe(Date.UTC(2026, 2, 1, 12, 0, 0));
  });

  it('cacheTtlMs 0 disables the cache', async () => {
    const { first, service } = setup({ cacheTtlMs: 0 });
    await service.getQuote('BTC', 'USD');
    await service.getQuote('BTC', 'USD');
    expect(first.calls).toHaveLength(2);
  });
});
