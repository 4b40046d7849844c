import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/invoices/policy.ts';
import type { InvoiceRecord } from '../../src/invoices/record.ts';
import { serializeInvoice } from '../../src/invoices/serialize.ts';
import { transition } from '../../src/invoices/transition.ts';
import { renderCheckout } from '../../src/web/checkout/checkout-page.ts';
import { at, buildInvoice, OPTION_B, paymentSeen } from '../invoices/builders.ts';

/**
 * After an underpayment the checkout asks for the remainder: the QR code, the wallet link and the
 * copy button carry the shortfall, not the original amount (a customer who scans the old code
 * again pays everything twice). Before any payment they carry the full amount.
 */
function page(options: 1 | 2, paid: { optionId?: string; amount: bigint } | null) {
  let invoice = buildInvoice({ options, id: 'inv_remainder' });
  if (paid) invoice = transition(invoice, paymentSeen({ ...paid, confirmations: 2 }), at(60)).invoice;
  const record: InvoiceRecord = {
    ...invoice,
    merchantOrderId: null,
    customerId: null,
    description: null,
    priceAmount: 2500n,
    priceCurrency: 'USD',
    metadata: {},
    successUrl: null,
    cancelUrl: null,
    policySnapshot: DEFAULT_POLICY,
    fulfilledAt: null,
    fulfilment: null,
    updatedAt: at(60),
    version: 2,
  };
  const json = serializeInvoice(record);
  const body = renderCheckout({ invoice: json, merchantName: 'Shop', version: 2 }, undefined, at(61));
  return {
    status: json.status,
    qr: /<a class="qr" href="([^"]+)"/.exec(body)?.[1]?.replace(/&amp;/g, '&'),
    label: /<p id="amount-label" class="amount">([^<]+)</.exec(body)?.[1]?.trim(),
    copy: /<button type="button" data-copy="([^"]+)">Copy amount/.exec(body)?.[1],
  };
}

describe('checkout after an underpayment', () => {
  it('Bitcoin: BIP21 for the remaining 0.0004 BTC of 0.001', () => {
    expect(page(1, null)).toMatchObject({
      qr: 'bitcoin:addr_opt_btc?amount=0.001&label=inv_remainder',
      label: 'Send exactly 0.001 BTC',
    });
    const under = page(1, { amount: 60_000n });
    expect(under.status).toBe('underpaid');
    expect(under.qr).toBe('bitcoin:addr_opt_btc?amount=0.0004&label=inv_remainder');
    expect(under.label).toBe('Send the remaining 0.0004 BTC');
    expect(under.copy).toBe('0.0004');
  });

  it('EVM token: EIP-681 transfer of the remaining base units on the option that was paid', () => {
    const under = page(2, { optionId: OPTION_B, amount: 25_000n });
    expect(under.status).toBe('underpaid');
    expect(under.qr).toMatch(
      /^ethereum:0x[0-9a-fA-F]{40}@137\/transfer\?address=addr_opt_usdc&uint256=75000$/,
    );
    expect(under.label).toBe('Send the remaining 0.075 USDC');
  });
});
