import { isSettled } from '../invoices/settlement-math.ts';
import type { Invoice, PaymentOption } from '../invoices/types.ts';
import { ACCOUNTS, addTo, type Position } from './accounts.ts';

/**
 * Where an invoice's money should stand in the books, derived from its records alone (pure, so
 * `tally ledger verify` recomputes it and compares). Only money that counts is booked: payments
 * settled under their option's confirmation rule. Amounts are in base units of the asset.
 *
 * `recognised` says whether the invoice earned its amount due: true in the settled statuses, and
 * after a refund when the invoice was settled before it (the caller knows from the books or from
 * the refund transition's `from` status).
 */
export function invoicePosition(invoice: Invoice, recognised: boolean): Position {
  const position: Position = new Map();
  const selected = anchorOption(invoice);
  let received = 0n;
  for (const p of invoice.payments) {
    const option = invoice.options.find((o) => o.id === p.optionId);
    if (!option || p.removed || !isSettled(p, option)) continue;
    const where = {
      asset: p.received?.asset ?? option.asset,
      network: p.received?.network ?? option.network,
    };
    addTo(position, { account: ACCOUNTS.invoiceAddresses, ...where }, p.amount);
    if (p.credited && option.id === selected?.id) received += p.amount;
    else addTo(position, { account: ACCOUNTS.unapplied, ...where }, -p.amount);
  }
  if (!selected) return position;
  const on = { asset: selected.asset, network: selected.network };
  const refunded = invoice.refundedAmount;
  if (recognised) {
    const due = selected.amountDue;
    addTo(position, { account: ACCOUNTS.sales, ...on }, -due);
    if (received < due) {
      const account = invoice.manuallyPaid ? ACCOUNTS.offChain : ACCOUNTS.underpaymentTolerance;
      addTo(position, { account, ...on }, due - received);
    }
    const excess = received > due ? received - due : 0n;
    // A refund first returns the excess the customer is owed, then earned money (contra-revenue).
    const fromExcess = refunded < excess ? refunded : excess;
    addTo(position, { account: ACCOUNTS.overpayments, ...on }, fromExcess - excess);
    addTo(position, { account: ACCOUNTS.salesRefunds, ...on }, refunded - fromExcess);
  } else {
    addTo(position, { account: ACCOUNTS.customerDeposits, ...on }, refunded - received);
  }
  addTo(position, { account: ACCOUNTS.refundsInTransit, ...on }, -refunded);
  return position;
}

/**
 * The option whose asset the invoice's revenue and refunds are booked in: the selected one; when
 * the state machine cleared the selection (no credited money left), the option credited money
 * last went to, so a refund or revenue booked earlier is not dropped; for an operator's
 * `mark_paid` with nothing on chain, the first option (the invoice's price in its first asset).
 */
export function anchorOption(invoice: Invoice): PaymentOption | undefined {
  const selected = invoice.options.find((o) => o.id === invoice.selectedOptionId);
  if (selected) return selected;
  const lastCredited = [...invoice.payments].reverse().find((p) => p.credited && !p.received);
  const credited = invoice.options.find((o) => o.id === lastCredited?.optionId);
  if (credited) return credited;
  return invoice.manuallyPaid || invoice.refundedAmount > 0n ? invoice.options[0] : undefined;
}

/** The locked rate of the option that asset came through, for fiat values of entries. */
export function optionFor(invoice: Invoice, asset: string, network: string): PaymentOption | undefined {
  return invoice.options.find((o) => o.asset === asset && o.network === network);
}
