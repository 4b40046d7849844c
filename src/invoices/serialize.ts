import { formatAmount } from '../core/money.ts';
import { currencyDecimals } from '../core/registry.ts';
import { paymentUri } from './payment-uri.ts';
import type { InvoiceRecord } from './record.ts';
import { isSettled, totals } from './settlement-math.ts';
import type { Payment, PaymentOption } from './types.ts';

/**
 * The one wire shape of an invoice: API responses and event snapshots use it, so a webhook's
 * `data.invoice` is exactly what GET /v1/invoices/:id returns at that sequence number.
 */
export function serializeInvoice(inv: InvoiceRecord) {
  const t = totals(inv);
  const option = t.option;
  const decimals = currencyDecimals(inv.priceCurrency) ?? 0;
  return {
    id: inv.id,
    object: 'invoice' as const,
    status: inv.status,
    customer_status: customerStatus(inv.status),
    sequence: inv.sequence,
    merchant_order_id: inv.merchantOrderId,
    customer_id: inv.customerId,
    description: inv.description,
    price: { amount: formatAmount(inv.priceAmount, decimals), currency: inv.priceCurrency },
    metadata: inv.metadata,
    success_url: inv.successUrl,
    cancel_url: inv.cancelUrl,
    created_at: inv.createdAt.toISOString(),
    updated_at: inv.updatedAt.toISOString(),
    expires_at: inv.expiresAt.toISOString(),
    monitoring_until: new Date(
      inv.expiresAt.getTime() + inv.policy.monitoringWindowSeconds * 1000,
    ).toISOString(),
    policy: inv.policySnapshot,
    payment_options: inv.options.map((o) => serializeOption(o, inv.id)),
    selected_option_id: inv.selectedOptionId,
    amount_paid: option ? formatAmount(t.settled, option.decimals) : '0',
    amount_pending: option ? formatAmount(t.seen - t.settled, option.decimals) : '0',
    shortfall:
      option && t.settled < option.amountDue
        ? formatAmount(option.amountDue - t.settled, option.decimals)
        : '0',
    refunded_amount: option ? formatAmount(inv.refundedAmount, option.decimals) : '0',
    manually_paid: inv.manuallyPaid,
    payments: inv.payments.map((p) => serializePayment(p, inv.options)),
    fulfilment: inv.fulfilledAt
      ? {
          fulfilled_at: inv.fulfilledAt.toISOString(),
          reference: inv.fulfilment?.reference ?? null,
          note: inv.fulfilment?.note ?? null,
        }
      : null,
  };
}

export type InvoiceJson = ReturnType<typeof serializeInvoice>;

/**
 * `uriLabel` labels the BIP21 URI. Callers pass the invoice id: it is in every snapshot and never
 * changes, and it is what support searches for when a customer's wallet shows it. The merchant's
 * name is not part of the invoice record, and a rename would make earlier snapshots disagree.
 */
export function serializeOption(o: PaymentOption, uriLabel: string) {
  return {
    id: o.id,
    asset: o.asset,
    network: o.network,
    address: o.address,
    payment_uri: paymentUri(o, uriLabel),
    amount_due: formatAmount(o.amountDue, o.decimals),
    amount_due_base_units: o.amountDue.toString(),
    decimals: o.decimals,
    required_confirmations: o.requiredConfirmations,
    zero_conf_allowed: o.zeroConfAllowed,
    confirmation_reason: o.confirmationReason,
    rate: o.rate
      ? { value: o.rate.value, source: o.rate.source, fetched_at: o.rate.fetchedAt.toISOString() }
      : null,
  };
}

export function serializePayment(p: Payment, options: PaymentOption[]) {
  const option = options.find((o) => o.id === p.optionId);
  // A misdirected payment is shown as what arrived (its own network, asset and decimals).
  const decimals = p.received?.decimals ?? option?.decimals ?? 0;
  return {
    id: p.id,
    option_id: p.optionId,
    asset: p.received?.asset ?? option?.asset ?? null,
    network: p.received?.network ?? option?.network ?? null,
    misdirected: p.received?.kind ?? null,
    txid: p.txid,
    output_index: p.outputIndex,
    amount: formatAmount(p.amount, decimals),
    amount_base_units: p.amount.toString(),
    confirmations: p.confirmations,
    required_confirmations: option?.requiredConfirmations ?? null,
    settled: option && !p.received ? isSettled(p, option) : false,
    block_hash: p.blockHash,
    block_height: p.blockHeight,
    rbf: p.rbf,
    seen_at: p.seenAt.toISOString(),
    timing: p.timing,
    credited: p.credited,
    removed: p.removed,
    removed_reason: p.removedReason,
  };
}

/** The simpler set the customer sees on the checkout page. */
export function customerStatus(status: InvoiceRecord['status']): string {
  switch (status) {
    case 'created':
    case 'awaiting_payment':
      return 'waiting_for_payment';
    case 'detected':
      return 'payment_received';
    case 'confirming':
      return 'confirming';
    case 'paid':
    case 'overpaid':
    case 'late_paid':
      return 'complete';
    case 'expired':
      return 'expired';
    case 'cancelled':
    case 'failed':
      return 'cancelled';
    case 'underpaid':
    case 'partially_refunded':
    case 'refunded':
      return 'issue_detected';
    default: {
      const never: never = status;
      return never;
    }
  }
}
