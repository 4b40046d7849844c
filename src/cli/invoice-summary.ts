import type { InvoiceJson } from '../invoices/serialize.ts';

/**
 * One line for `invoice show`. The paid and pending amounts are in the asset of the option the
 * customer paid (the selected one); with none selected, nothing has been received.
 */
export function invoiceSummary(inv: InvoiceJson): string {
  const option = inv.payment_options.find((o) => o.id === inv.selected_option_id);
  let money = 'nothing received yet';
  if (option) {
    const unit = `${option.asset} on ${option.network}`;
    money = `paid ${inv.amount_paid} ${unit}`;
    if (inv.amount_pending !== '0') money += `, ${inv.amount_pending} ${option.asset} pending`;
    if (inv.refunded_amount !== '0') money += `, ${inv.refunded_amount} ${option.asset} refunded`;
  }
  return `Invoice ${inv.id}: ${inv.status} (${money}${expiryNote(inv)})`;
}

/** The expiry where it still matters: an invoice that can still be paid, or one that ran out. */
function expiryNote(inv: InvoiceJson): string {
  if (inv.status === 'expired') return `, expired ${inv.expires_at}`;
  return STILL_PAYABLE.has(inv.status) ? `, expires ${inv.expires_at}` : '';
}

const STILL_PAYABLE = new Set(['created', 'awaiting_payment', 'underpaid']);
