import { describe, expect, it } from 'vitest';
import { eip681Uri } from '../../src/invoices/eip681.ts';
import { paymentUri } from '../../src/invoices/payment-uri.ts';
import type { PaymentOption } from '../../src/invoices/types.ts';

const RECIPIENT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

function option(fields: Partial<PaymentOption>): PaymentOption {
  return {
    id: 'opt_1',
    asset: 'USDC',
    network: 'polygon',
    address: RECIPIENT,
    derivationIndex: 1,
    walletId: 'wal_1',
    amountDue: 25_000_000n,
    decimals: 6,
    requiredConfirmations: 64,
    zeroConfAllowed: false,
    confirmationReason: 'network default',
    rate: null,
    ...fields,
  };
}

describe('EIP-681 payment URIs', () => {
  it('an ERC-20 option calls transfer on the allow-listed contract, with the chain id', () => {
    expect(paymentUri(option({}), 'inv_1')).toBe(
      `ethereum:0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359@137/transfer?address=${RECIPIENT}&uint256=25000000`,
    );
  });

  it('native ether is a value in wei written as a plain integer, never in exponent form', () => {
    const wei = 1_234_567_890_123_456_789_012n; // beyond 2^53: a JS number would round it
    expect(eip681Uri({ chainId: 1, recipient: RECIPIENT, amountBaseUnits: wei, contract: null })).toBe(
      `ethereum:${RECIPIENT}@1?value=1234567890123456789012`,
    );
  });

  it('leaves out a zero amount so the wallet asks for one', () => {
    expect(eip681Uri({ chainId: 10, recipient: RECIPIENT, amountBaseUnits: 0n, contract: null })).toBe(
      `ethereum:${RECIPIENT}@10`,
    );
    expect(eip681Uri({ chainId: 10, recipient: RECIPIENT, amountBaseUnits: 0n, contract: '0xToken' })).toBe(
      `ethereum:0xToken@10/transfer?address=${RECIPIENT}`,
    );
  });

  it('USDT on Ethereum uses its own contract, not USDC’s', () => {
    expect(paymentUri(option({ asset: 'USDT', network: 'ethereum' }), 'inv_1')).toMatch(
      /^ethereum:0xdAC17F958D2ee523a2206206994597C13D831ec7@1\/transfer\?/,
    );
  });
});
