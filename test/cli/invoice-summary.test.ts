import { describe, expect, it } from 'vitest';
import { invoiceSummary } from '../../src/cli/invoice-summary.ts';
import type { InvoiceJson } from '../../src/invoices/serialize.ts';

/** The fields `invoice show` reads; the rest of the wire shape plays no part. */
function invoice(status: string, paid: string | null): InvoiceJson {
  return {
    id: 'inv_1',
    status,
    expires_at: '2026-11-23T10:00:00.000Z',
    selected_option_id: paid === null ? null : 'opt_1',
    payment_options: [{ id: 'opt_1', asset: 'BTC', network: 'bitcoin-regtest' }],
    amount_paid: paid ?? '0',
    amount_pending: '0',
    refunded_amount: '0',
  } as unknown as InvoiceJson;
}

describe('invoice show summary', () => {
  it('states the expiry while the invoice can still be paid', () => {
    expect(invoiceSummary(invoice('awaiting_payment', null))).toBe(
      'Invoice inv_1: awaiting_payment (nothing received yet, expires 2026-11-23T10:00:00.000Z)',
    );
    expect(invoiceSummary(invoice('underpaid', '0.0005'))).toContain(', expires 2026-11-23T10:00:00.000Z)');
  });

  it('says "expired" for an expired invoice and leaves the expiry out once it is paid', () => {
    expect(invoiceSummary(invoice('expired', null))).toBe(
      'Invoice inv_1: expired (nothing received yet, expired 2026-11-23T10:00:00.000Z)',
    );
    expect(invoiceSummary(invoice('paid', '0.001'))).toBe(
      'Invoice inv_1: paid (paid 0.001 BTC on bitcoin-regtest)',
    );
  });
});
