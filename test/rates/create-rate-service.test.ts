import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { TallyError } from '../../src/core/errors.ts';
import { createRateService, DEV_FIXED_RATES, parseRateSources, RateService } from '../../src/rates/index.ts';
import {
  expectRateUnavailable,
  fixture,
  type LocalServer,
  replyJson,
  startLocalServer,
} from './helpers/local-server.ts';

describe('parseRateSources', () => {
  it('parses a single source and a comma list, in order', () => {
    expect(parseRateSources('fixed')).toEqual(['fixed']);
    expect(parseRateSources('kraken,coinbase')).toEqual(['kraken', 'coinbase']);
    expect(parseRateSources(' Coinbase , kraken ')).toEqual(['coinbase', 'kraken']);
    expect(parseRateSources(['coinbase', 'fixed'])).toEqual(['coinbase', 'fixed']);
  });

  it.each([
    ['', /must list one or more/],
    ['kraken,', /must list one or more/],
    ['binance', /unknown rate source "binance"/],
    ['kraken,kraken', /listed twice/],
  ])('refuses %j at boot', (source, message) => {
    let caught: unknown;
    try {
      parseRateSources(source);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TallyError);
    expect((caught as TallyError).code).toBe('validation_failed');
    expect((caught as TallyError).message).toMatch(message);
    expect((caught as TallyError).details).toMatchObject({ issues: [{ path: 'rates.source' }] });
  });
});

describe('createRateService', () => {
  let kraken: LocalServer;
  let coinbase: LocalServer;
  const clock = new ManualClock(Date.UTC(2026, 2, 1));

  beforeAll(async () => {
    kraken = await startLocalServer(replyJson(200, fixture('kraken-ticker-xbtusd.json')));
    coinbase = await startLocalServer(replyJson(200, fixture('coinbase-spot-btc-usd.json')));
  });
  afterAll(async () => {
    await Promise.all([kraken.close(), coinbase.close()]);
  });

  function service(source: string): RateService {
    return createRateService({
      source,
      clock,
      timeoutMs: 1_000,
      cacheTtlMs: 0,
      krakenBaseUrl: kraken.baseUrl,
      coinbaseBaseUrl: coinbase.baseUrl,
    });
  }

  it('builds a fixed service with the dev defaults', async () => {
    const rates = createRateService({ source: 'fixed', clock });
    expect(rates).toBeInstanceOf(RateService);
    expect(await rates.getQuote('BTC', 'USD')).toMatchObject({
      value: DEV_FIXED_RATES['BTC/USD'],
      source: 'fixed',
    });
  });

  it('uses a custom fixed table', async () => {
    const rates = createRateService({ source: 'fixed', clock, fixedRates: { 'BTC/USD': '12345.6' } });
    expect((await rates.getQuote('BTC', 'USD')).value).toBe('12345.6');
  });

  it('kraken,coinbase asks Kraken first', async () => {
    kraken.respond(replyJson(200, fixture('kraken-ticker-xbtusd.json')));
    const quote = await service('kraken,coinbase').getQuote('BTC', 'USD');
    expect(quote).toMatchObject({ value: '65012.50000', source: 'kraken' });
  });

  it('kraken,coinbase falls back to Coinbase when Kraken is down', async () => {
    kraken.respond(replyJson(503, fixture('kraken-error-unavailable.json')));
    const before = coinbase.requests.length;
    const quote = await service('kraken,coinbase').getQuote('BTC', 'USD');
    expect(quote).toMatchObject({ value: '65000.12', source: 'coinbase' });
    expect(coinbase.requests.slice(before)).toEqual(['/v2/prices/BTC-USD/spot']);
  });

  it('fails closed naming both when both are down', async () => {
    kraken.respond(replyJson(200, fixture('kraken-error-unknown-pair.json')));
    coinbase.respond(replyJson(500, 'oops'));
    const error = await expectRateUnavailable(
      service('kraken,coinbase').getQuote('BTC', 'USD'),
      /kraken.*coinbase/,
    );
    expect(error.details).toEqual({
      tried: [
        { source: 'kraken', reason: 'error EQuery:Unknown asset pair' },
        { source: 'coinbase', reason: 'HTTP 500 for BTC-USD' },
      ],
    });
  });

  it('refuses an unknown source at construction', () => {
    expect(() => createRateService({ source: 'kraken,bitstamp' })).toThrow(/unknown rate source "bitstamp"/);
  });
});
