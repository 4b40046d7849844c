import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { KrakenRateProvider, krakenResultKeys } from '../../src/rates/providers/kraken.ts';
import {
  expectRateUnavailable,
  fixture,
  neverAnswer,
  replyJson,
  startLocalServer,
  useLocalServer,
} from './helpers/local-server.ts';

const local = useLocalServer();
const clock = new ManualClock(Date.UTC(2026, 2, 1, 12, 0, 0));

function provider(timeoutMs = 2_000): KrakenRateProvider {
  return new KrakenRateProvider({ baseUrl: local().baseUrl, timeoutMs, clock });
}

describe('KrakenRateProvider', () => {
  it('asks for XBTUSD and returns c[0] of XXBTZUSD verbatim', async () => {
    local().respond(replyJson(200, fixture('kraken-ticker-xbtusd.json')));
    const quote = await provider().getQuote('BTC', 'USD');
    expect(local().requests).toEqual(['/0/public/Ticker?pair=XBTUSD']);
    expect(quote).toEqual({
      base: 'BTC',
      quote: 'USD',
      value: '65012.50000',
      source: 'kraken',
      fetchedAt: new Date(Date.UTC(2026, 2, 1, 12, 0, 0)),
    });
  });

  it('reads X/Z-prefixed legacy keys (XETHZUSD) and Z-only keys (USDTZUSD)', async () => {
    local().respond(replyJson(200, fixture('kraken-ticker-xethzusd.json')));
    expect((await provider().getQuote('ETH', 'USD')).value).toBe('3201.44000');
    local().respond(replyJson(200, fixture('kraken-ticker-usdtusd.json')));
    expect((await provider().getQuote('USDT', 'USD')).value).toBe('1.00005000');
    expect(local().requests).toEqual(['/0/public/Ticker?pair=ETHUSD', '/0/public/Ticker?pair=USDTUSD']);
  });

  it('only accepts result keys that name the requested pair', () => {
    expect(krakenResultKeys('BTC', 'USD')).toContain('XXBTZUSD');
    expect(krakenResultKeys('USDC', 'USD')).toContain('USDCUSD');
    expect(krakenResultKeys('ETH', 'BTC')).toContain('XETHXXBT');
    expect(krakenResultKeys('BTC', 'USD')).not.toContain('XETHZUSD');
  });

  it('fails on a non-empty error array, quoting Kraken', async () => {
    local().respond(replyJson(200, fixture('kraken-error-unknown-pair.json')));
    const error = await expectRateUnavailable(
      provider().getQuote('BTC', 'USD'),
      /^kraken: .*EQuery:Unknown asset pair/,
    );
    expect(error.details).toMatchObject({ source: 'kraken' });
  });

  it('fails on an error array even when a result is present', async () => {
    const body = JSON.parse(fixture('kraken-ticker-xbtusd.json')) as Record<string, unknown>;
    body.error = ['EService:Unavailable'];
    local().respond(replyJson(200, JSON.stringify(body)));
    await expectRateUnavailable(provider().getQuote('BTC', 'USD'), /kraken: .*EService:Unavailable/);
  });

  it('fails on HTTP 500', async () => {
    local().respond(replyJson(500, fixture('kraken-error-unavailable.json')));
    await expectRateUnavailable(provider().getQuote('BTC', 'USD'), /^kraken: HTTP 500/);
  });

  it('fails within the timeout when the server never answers', async () => {
    local().respond(neverAnswer);
    const started = Date.now();
    await expectRateUnavailable(provider(150).getQuote('BTC', 'USD'), /^kraken: no answer within 150 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('fails on a body that is not JSON (an HTML error page)', async () => {
    local().respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>502 Bad Gateway</body></html>');
    });
    await expectRateUnavailable(provider().getQuote('BTC', 'USD'), /^kraken: response is not valid JSON/);
  });

  it('fails on a truncated JSON body', async () => {
    local().respond(replyJson(200, fixture('kraken-ticker-xbtusd.json').slice(0, 60)));
    await expectRateUnavailable(provider().getQuote('BTC', 'USD'), /not valid JSON/);
  });

  it('fails when the result holds another pair only', async () => {
    local().respond(replyJson(200, fixture('kraken-ticker-xethzusd.json')));
    await expectRateUnavailable(
      provider().getQuote('BTC', 'USD'),
      /^kraken: pair XBTUSD missing from result/,
    );
  });

  it('fails when the shape is wrong (no error array, no result)', async () => {
    local().respond(replyJson(200, '{"result":{}}'));
    await expectRateUnavailable(provider().getQuote('BTC', 'USD'), /no error array/);
    local().respond(replyJson(200, '{"error":[]}'));
    await expectRateUnavailable(provider().getQuote('BTC', 'USD'), /no result/);
  });

  it.each([
    ['negative', '"-65012.5"'],
    ['exponent', '"6.50125e4"'],
    ['zero', '"0.00000"'],
    ['empty', '""'],
    ['thousands separator', '"65,012.50"'],
    ['JSON number (would lose exactness)', '65012.5'],
    ['null', 'null'],
  ])('refuses a %s price', async (_label, raw) => {
    const ticker = JSON.parse(fixture('kraken-ticker-xbtusd.json')) as {
      result: { XXBTZUSD: { c: string[] } };
    };
    ticker.result.XXBTZUSD.c[0] = '__PRICE__';
    const body = JSON.stringify(ticker).replace('"__PRICE__"', raw);
    expect(body).toContain(`"c":[${raw},"0.00100000"]`);
    local().respond(replyJson(200, body));
    await expectRateUnavailable(
      provider().getQuote('BTC', 'USD'),
      /^kraken: price for XBTUSD is not a positive decimal/,
    );
  });

  it('refuses pair codes that could alter the URL, without calling out', async () => {
    await expectRateUnavailable(provider().getQuote('BTC&pair=ETH', 'USD'), /^kraken: invalid pair/);
    expect(local().requests).toEqual([]);
  });

  it('names the source when the connection is refused', async () => {
    const closed = await startLocalServer();
    const url = closed.baseUrl;
    await closed.close();
    const p = new KrakenRateProvider({ baseUrl: url, timeoutMs: 1_000, clock });
    await expectRateUnavailable(p.getQuote('BTC', 'USD'), /^kraken: request failed \(ECONNREFUSED\)/);
  });

  it('defaults to the public Kraken URL', () => {
    expect(Reflect.get(new KrakenRateProvider(), 'baseUrl')).toBe('https://api.kraken.com');
  });
});
