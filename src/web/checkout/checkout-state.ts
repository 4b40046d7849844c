import { getMerchant } from '../../auth/merchants.ts';
import type { Tally } from '../../context.ts';
import { TallyError } from '../../core/errors.ts';
import { isId } from '../../core/ids.ts';
import { findNetwork } from '../../core/registry.ts';
import { getInvoice } from '../../invoices/invoice-queries.ts';
import type { InvoiceJson } from '../../invoices/serialize.ts';

/**
 * What the public checkout page may know about an invoice: no customer id, metadata, policy or
 * other payments' details, only what the payer needs. The page and its live stream both render
 * from this, so they never disagree.
 */
export interface PublicState {
  status: string;
  version: number;
  /** Confirmations of the selected option's payment so far, and how many it needs; null before one. */
  confirmations: { n: number; of: number } | null;
  amountPaid: string;
  shortfall: string;
  asset: string | null;
  expiresAt: string;
  successUrl: string | null;
}

export interface CheckoutData {
  invoice: InvoiceJson;
  merchantName: string;
  version: number;
}

export async function loadCheckout(tally: Tally, invoiceId: string): Promise<CheckoutData> {
  if (!isId(invoiceId, 'inv')) throw new TallyError('not_found', `No invoice ${invoiceId}.`);
  const row = await tally.database.read
    .selectFrom('invoices')
    .select(['merchant_id', 'version'])
    .where('id', '=', invoiceId)
    .executeTakeFirst();
  if (!row) throw new TallyError('not_found', `No invoice ${invoiceId}.`);
  const [invoice, merchant] = await Promise.all([
    getInvoice(tally, row.merchant_id, invoiceId),
    getMerchant(tally.database.read, row.merchant_id),
  ]);
  return { invoice, merchantName: merchant.name, version: row.version };
}

export function publicState(data: CheckoutData): PublicState {
  const inv = data.invoice;
  const optionId = inv.selected_option_id ?? inv.payment_options[0]?.id ?? null;
  const option = inv.payment_options.find((o) => o.id === optionId) ?? null;
  const live = inv.payments.filter((p) => p.option_id === optionId && !p.removed && p.credited);
  const deepest = live.reduce((max, p) => Math.max(max, p.confirmations), -1);
  return {
    status: inv.customer_status,
    version: data.version,
    confirmations:
      option && deepest >= 0
        ? { n: Math.min(deepest, option.required_confirmations), of: option.required_confirmations }
        : null,
    amountPaid: inv.amount_paid,
    shortfall: inv.shortfall,
    asset: option?.asset ?? null,
    expiresAt: inv.expires_at,
    successUrl: inv.success_url,
  };
}

export function networkName(id: string): { name: string; testnet: boolean } {
  const network = findNetwork(id);
  return { name: network?.name ?? id, testnet: network?.testnet ?? false };
}
