import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { CoinbaseRateProvider } from '../../src/rates/providers/coinbase.ts';
import {
  expectRateUnavailable,
  fixture,
  neverAnswer,
  replyJson,
  useLocalServer,
} from './helpers/local-server.ts';

const local = useLocalServer();
const clock = new ManualClock(Date.UTC(2026, 2, 1, 12, 0, 0));

function provider(timeoutMs = 2_000): CoinbaseRateProvider {
  return new CoinbaseRateProvider({ baseUrl: `${local().baseUrl}/`, timeoutMs, clock });
}

describe('CoinbaseRateProvider', () => {
  it('asks for /v2/prices/BTC-USD/spot and returns data.amount verbatim', async () => {
    local().respond(replyJson(200, fixture('coinbase-spot-btc-usd.json')));
    const quote = await provider().getQuote('BTC', 'USD');
    expect(local().requests).toEqual(['/v2/prices/BTC-USD/spot']);
    expect(quote).toEqual({
      base: 'BTC',
      quote: 'USD',
      value: '65000.12',
      source: 'coinbase',
      fetchedAt: new Date(Date.UTC(2026, 2, 1, 12, 0, 0)),
    });
  });

  it('prices EUR pairs', async () => {
    local().respond(replyJson(200, fixture('coinbase-spot-eth-eur.json')));
    expect((await provider().getQuote('ETH', 'EUR')).value).toBe('2951.8');
    expect(local().requests).toEqual(['/v2/prices/ETH-EUR/spot']);
  });

  it("fails on HTTP 400 and quotes Coinbase's error message", async () => {
    local().respond(replyJson(400, fixture('coinbase-error-invalid-currency.json')));
    const error = await expectRateUnavailable(
      provider().getQuote('FOO', 'USD'),
      /^coinbase: HTTP 400 for FOO-USD: Invalid currency \(FOO\)/,
    );
    expect(error.details).toMatchObject({ source: 'coinbase' });
  });

  it('fails on HTTP 500 with a non-JSON body', async () => {
    local().respond((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('upstream exploded');
    });
    await expectRateUnavailable(provider().getQuote('BTC', 'USD'), /^coinbase: HTTP 500 for BTC-USD$/);
  });

  it('fails within the timeout when the server never answers', async () => {
    local().respond(neverAnswer);
    const started = Date.now();
    await expectRateUnavailable(provider(150).getQuote('BTC', 'USD'), /^coinbase: no answer within 150 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('stops when the caller aborts', async () => {
    local().respond(neverAnswer);
    const controller = new AbortController();
    const pending = provider(10_000).getQuote('BTC', 'USD', controller.signal);
    setTimeout(() => controller.abort(), 50);
    await expectRateUnavailable(pending, /^coinbase: request aborted by caller/);
  });

  it('fails on a garbage body', async () => {
    local().respond(replyJson(200, 'not json at all'));
    await expectRateUnavailable(provider().getQuote('BTC', 'USD'), /^coinbase: response is not valid JSON/);
  });

  it('fails on a 200 carrying errors instead of data', async () => {
    local().respond(replyJson(200, fixture('coinbase-error-invalid-currency.json')));
    await expectRateUnavailable(provider().getQuote('BTC', 'USD'), /no data.*Invalid currency/);
  });

  it('refuses an answer for another pair', async () => {
    local().respond(replyJson(200, fixture('coinbase-spot-eth-eur.json')));
    await expectRateUnavailable(
      provider().getQuote('BTC', 'USD'),
      /^coinbase: answered for "ETH"-"EUR" instead of BTC-USD/,
    );
  });

  it.each([
    ['negative', '"-65000.12"'],
    ['exponent', '"6.500012E4"'],
    ['zero', '"0"'],
    ['leading space', '" 65000.12"'],
    ['JSON number', '65000.12'],
    ['missing', 'undefined'],
  ])('refuses a %s amount', async (_label, raw) => {
    const body =
      raw === 'undefined'
        ? '{"data":{"base":"BTC","currency":"USD"}}'
        : fixture('coinbase-spot-btc-usd.json').replace('"65000.12"', raw);
    local().respond(replyJson(200, body));
    await expectRateUnavailable(
      provider().getQuote('BTC', 'USD'),
      /^coinbase: price for BTC-USD is not a positive decimal/,
    );
  });

  it('refuses a declared content-length larger than any real ticker', async () => {
    const body = `{"data":{"amount":"1","base":"BTC","currency":"USD","pad":"${'x'.repeat(300_000)}"}}`;
    local().respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    await expectRateUnavailable(provider().getQuote('BTC', 'USD'), /^coinbase: response too large/);
  });

  it('refuses an oversized chunked body (no content-length) while streaming', async () => {
    local().respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 40; i++) res.write('x'.repeat(10_000));
      res.end();
    });
    await expectRateUnavailable(
      provider().getQuote('BTC', 'USD'),
      /^coinbase: response larger than 262144 bytes/,
    );
  });

  it('refuses pair codes that could alter the URL, without calling out', async () => {
    await expectRateUnavailable(provider().getQuote('../../v3', 'USD'), /^coinbase: invalid pair/);
    expect(local().requests).toEqual([]);
  });

  it('defaults to the public Coinbase URL', () => {
    expect(Reflect.get(new CoinbaseRateProvider(), 'baseUrl')).toBe('https://api.coinbase.com');
  });
});
