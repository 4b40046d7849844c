import { INVOICE_STATUSES } from '../invoices/types.ts';

/**
 * Every event type Tally emits, with what it means. docs/events.md shows an example payload of
 * each, and test/webhooks/event-catalogue.test.ts snapshots a real one, so this list, the docs and
 * the code that emits cannot drift apart silently. Every payload is `{id, type, created, data}`;
 * invoice events carry `data.invoice` (the GET /v1/invoices/{id} shape with its per-invoice
 * `sequence`, so a receiver can drop stale updates) and, where relevant, `data.payment`,
 * `data.exception` (the GET /v1/exceptions/{id} shape), `data.refund` (GET /v1/refunds/{id}: which
 * refund completed or was reverted) or `data.transition`.
 */
const STATUS_MEANING: Record<string, string> = {
  awaiting_payment: 'options assigned; waiting for the customer',
  detected: 'a payment was seen, not yet confirmed enough',
  confirming: 'enough value seen; waiting for confirmations',
  paid: 'paid in full with the required confirmations',
  underpaid: 'confirmed value below the amount due (minus tolerance)',
  overpaid: 'confirmed value above the amount due (plus tolerance)',
  expired: 'no (sufficient) payment before expiry',
  late_paid: 'paid in full after expiry, within the monitoring window',
  failed: 'marked failed by an operator',
  cancelled: 'cancelled by the merchant before any payment',
  refunded: 'fully refunded',
  partially_refunded: 'part of the payment refunded',
};

export const EVENT_CATALOGUE: Record<string, string> = {
  ...Object.fromEntries(
    INVOICE_STATUSES.filter((s) => s !== 'created').map((s) => [
      `invoice.${s}`,
      `invoice status changed: ${STATUS_MEANING[s] ?? s}`,
    ]),
  ),
  'invoice.fulfilled': 'the merchant reported fulfilment of a paid invoice',
  'payment.detected': 'a payment to an invoice address was seen (mempool or block)',
  'payment.confirmed': "a payment reached its option's required confirmations",
  'payment.replaced': 'a payment was replaced (RBF) or double-spent and no longer counts',
  'payment.reorged': 'a block with a payment left the best chain; its confirmations were reset',
  'payment.restored': 'a payment removed earlier was mined after all and counts again',
  'exception.opened': 'money that needs a person: late, duplicate, over/under, other option …',
  'exception.resolved': 'an operator resolved an exception, with a reason',
  'refund.completed': "a refund's transaction was booked; `data.refund` is the refund, now `completed`",
  'refund.reverted':
    "a completed refund's transaction left the chain (reorg): its amount is no longer refunded; `data.refund` is the refund, `approved` again",
  'wallet.gap_warning': "a wallet's unpaid address gap crossed the warning threshold",
  'webhook_endpoint.disabled': 'an endpoint was disabled (410 Gone, or failing for 5 days), with why',
  'webhook.test': 'a test event sent on request to one endpoint only',
};

export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE);
