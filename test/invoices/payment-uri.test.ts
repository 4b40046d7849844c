/**
 * BIP21 payment URIs: amounts from bigint satoshis (no floats, no exponents, no trailing zeros),
 * labels that cannot smuggle in parameters, and null for networks without a URI scheme yet.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAmount } from '../../src/core/money.ts';
import { bip21Uri, paymentUri } from '../../src/invoices/payment-uri.ts';
import type { PaymentOption } from '../../src/invoices/types.ts';

const ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

/** Reads a URI back the way a wallet would: the address and each query parameter, decoded. */
function read(uri: string): { scheme: string; address: string; params: URLSearchParams } {
  const url = new URL(uri);
  return { scheme: url.protocol, address: url.pathname, params: url.searchParams };
}

function option(overrides: Partial<PaymentOption>): PaymentOption {
  return {
    id: 'opt_1',
    asset: 'BTC',
    network: 'bitcoin-regtest',
    address: ADDRESS,
    derivationIndex: 0,
    walletId: 'wal_1',
    amountDue: 123_000n,
    decimals: 8,
    requiredConfirmations: 1,
    zeroConfAllowed: false,
    confirmationReason: 'test',
    rate: null,
    ...overrides,
  };
}

describe('BIP21 URI', () => {
  it.each([
    [1n, '0.00000001'],
    [123_000n, '0.00123'],
    [10_000_000n, '0.1'],
    [100_000_000n, '1'],
    [150_000_000n, '1.5'],
    [2_100_000_000_000_000n, '21000000'],
    [2_099_999_999_999_999n, '20999999.99999999'],
  ])('writes %i satoshis as amount=%s', (sats, amount) => {
    expect(bip21Uri(ADDRESS, sats, 8, 'inv_1')).toBe(`bitcoin:${ADDRESS}?amount=${amount}&label=inv_1`);
  });

  it('round-trips every amount up to 21 million BTC exactly (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2_100_000_000_000_000n }), (sats) => {
        const amount = read(bip21Uri(ADDRESS, sats, 8, 'x')).params.get('amount') ?? '';
        expect(amount).toMatch(/^(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$/);
        expect(parseAmount(amount, 8, 'amount')).toBe(sats);
      }),
      { numRuns: 500 },
    );
  });

  it('escapes the label so it reads back unchanged and cannot add parameters', () => {
    const label = 'Café & Bar #1?amount=999&x=ü 50%';
    const uri = bip21Uri(ADDRESS, 1n, 8, label);
    expect(uri).toBe(
      `bitcoin:${ADDRESS}?amount=0.00000001&label=Caf%C3%A9%20%26%20Bar%20%231%3Famount%3D999%26x%3D%C3%BC%2050%25`,
    );
    const { scheme, address, params } = read(uri);
    expect(scheme).toBe('bitcoin:');
    expect(address).toBe(ADDRESS);
    expect(params.get('label')).toBe(label);
    expect(params.getAll('amount')).toEqual(['0.00000001']);
    expect([...params.keys()]).toEqual(['amount', 'label']);
  });

  it('leaves out a zero amount and an empty label rather than writing them', () => {
    expect(bip21Uri(ADDRESS, 0n, 8, '')).toBe(`bitcoin:${ADDRESS}`);
    expect(bip21Uri(ADDRESS, 0n, 8, 'inv_1')).toBe(`bitcoin:${ADDRESS}?label=inv_1`);
  });

  it("uses the option's own amount and address; EIP-681 on EVM networks", () => {
    expect(paymentUri(option({}), 'inv_9')).toBe(`bitcoin:${ADDRESS}?amount=0.00123&label=inv_9`);
    expect(paymentUri(option({ network: 'bitcoin', address: 'bc1qexample' }), 'inv_9')).toMatch(
      /^bitcoin:bc1qexample\?/,
    );
    // EVM options: EIP-681 with the chain id, amount in wei (test/invoices/eip681.test.ts covers tokens).
    expect(
      paymentUri(option({ asset: 'ETH', network: 'evm-devnet', address: '0xabc', decimals: 18 }), 'inv_9'),
    ).toBe('ethereum:0xabc@31337?value=123000');
    // Not allocated yet: no address, no URI.
    expect(paymentUri(option({ address: '' }), 'inv_9')).toBeNull();
  });
});
