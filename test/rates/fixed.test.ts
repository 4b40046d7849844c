import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { DEV_FIXED_RATES, FixedRateProvider } from '../../src/rates/providers/fixed.ts';
import { expectRateUnavailable } from './helpers/local-server.ts';

describe('FixedRateProvider', () => {
  it('ships dev defaults for the supported assets in USD, EUR, GBP, JPY and the stablecoins, all "1" for USD stablecoins', () => {
    // Every price currency a merchant might try in dev mode, for every asset the devnet can pay in:
    // a missing pair is a 503 rate_unavailable on the first invoice.
    for (const asset of ['BTC', 'ETH', 'USDC', 'USDT', 'POL'])
      for (const currency of ['USD', 'EUR', 'GBP', 'JPY', 'USDC', 'USDT'])
        expect(DEV_FIXED_RATES[`${asset}/${currency}`], `${asset}/${currency}`).toMatch(
          /^[0-9]+(\.[0-9]+)?$/,
        );
    expect(DEV_FIXED_RATES['USDC/USD']).toBe('1');
    expect(DEV_FIXED_RATES['USDT/USD']).toBe('1');
    expect(Object.isFrozen(DEV_FIXED_RATES)).toBe(true);
  });

  it('prices every coin in every other coin, consistent with their USD prices within 0.1%', () => {
    // A dev invoice priced in BTC offers the devnet's ETH too: without ETH/BTC it was a 503.
    const coins = ['BTC', 'ETH', 'USDC', 'USDT', 'POL'];
    for (const asset of coins)
      for (const currency of ['BTC', 'ETH', 'POL']) {
        if (asset === currency) continue;
        const cross = DEV_FIXED_RATES[`${asset}/${currency}`];
        expect(cross, `${asset}/${currency}`).toMatch(/^[0-9]+(\.[0-9]+)?$/);
        const viaUsd = Number(DEV_FIXED_RATES[`${asset}/USD`]) / Number(DEV_FIXED_RATES[`${currency}/USD`]);
        expect(Math.abs(Number(cross) / viaUsd - 1), `${asset}/${currency}`).toBeLessThan(0.001);
      }
  });

  it('answers from the table, stamped with the clock', async () => {
    const clock = new ManualClock(Date.UTC(2026, 4, 5));
    const provider = new FixedRateProvider({ 'BTC/USD': '70000.5' }, clock);
    expect(await provider.getQuote('BTC', 'USD')).toEqual({
      base: 'BTC',
      quote: 'USD',
      value: '70000.5',
      source: 'fixed',
      fetchedAt: new Date(Date.UTC(2026, 4, 5)),
    });
    clock.advance(3_600_000);
    expect((await provider.getQuote('BTC', 'USD')).fetchedAt).toEqual(new Date(Date.UTC(2026, 4, 5, 1)));
  });

  it('uses the dev defaults when given no table', async () => {
    expect((await new FixedRateProvider().getQuote('ETH', 'USD')).value).toBe(DEV_FIXED_RATES['ETH/USD']);
  });

  it('fails for a pair it does not have and invents no inverse', async () => {
    const provider = new FixedRateProvider({ 'BTC/USD': '70000' });
    await expectRateUnavailable(provider.getQuote('USD', 'BTC'), /^fixed: no fixed rate for USD\/BTC/);
  });

  it.each([
    [{ 'BTC/USD': '0' }, /not a positive decimal/],
    [{ 'BTC/USD': '-1' }, /not a positive decimal/],
    [{ 'BTC/USD': '7e4' }, /not a positive decimal/],
    [{ BTCUSD: '70000' }, /not a BASE\/QUOTE pair/],
    [{ 'BTC/USD/EUR': '70000' }, /not a BASE\/QUOTE pair/],
  ])('refuses an invalid table at construction (%o)', (table, message) => {
    expect(() => new FixedRateProvider(table)).toThrow(message);
  });
});
