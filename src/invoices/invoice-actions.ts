import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { applyFact } from './apply-fact.ts';
import type { Actor } from './facts.ts';
import { emitInvoiceEvent, loadInvoice } from './invoice-store.ts';
import { type InvoiceJson, serializeInvoice } from './serialize.ts';
import { SETTLED_STATUSES } from './transition-table.ts';

/** Merchant cancels an invoice nobody has paid; refused (409) once money is in flight. */
export async function cancelInvoice(
  tally: Tally,
  merchantId: string,
  invoiceId: string,
  actor: Actor,
): Promise<InvoiceJson> {
  const outcome = await applyFact(tally, merchantId, invoiceId, {
    kind: 'merchant_cancel',
    id: `cancel:${invoiceId}`,
    actor,
  });
  if (outcome.rejected) throw new TallyError('invalid_state', `Cannot cancel: ${outcome.rejected}.`);
  return serializeInvoice(outcome.invoice);
}

export type OperatorAction = 'mark_paid' | 'mark_failed';

/** Dangerous, audited actions: need the admin scope and a written reason (enforced by the route). */
export async function operatorAction(
  tally: Tally,
  merchantId: string,
  invoiceId: string,
  action: OperatorAction,
  actor: Actor,
  reason: string,
): Promise<InvoiceJson> {
  const outcome = await applyFact(tally, merchantId, invoiceId, {
    kind: action,
    id: `op:${newId('act')}`,
    actor,
    reason,
  });
  if (outcome.rejected)
    throw new TallyError('invalid_state', `Cannot ${action.replace('_', ' ')}: ${outcome.rejected}.`);
  return serializeInvoice(outcome.invoice);
}

/**
 * The merchant reports that it fulfilled the order. Allowed only from a settled status, so the
 * record shows fulfilment followed backend state. Reported once: a retry of the same report (or
 * one that states nothing new) returns the first, so a merchant whose answer was lost can send
 * it again; a report that says something else is refused (409) rather than silently dropped,
 * since the record would not say what the merchant now believes it says.
 */
export async function reportFulfilment(
  tally: Tally,
  merchantId: string,
  invoiceId: string,
  report: { reference?: string | undefined; note?: string | undefined },
): Promise<InvoiceJson> {
  return tally.database.write(async (trx) => {
    const invoice = await loadInvoice(trx, tally.database.dialect, merchantId, invoiceId, true);
    if (!invoice) throw new TallyError('not_found', `No invoice ${invoiceId}.`);
    if (invoice.fulfilledAt) {
      const first = invoice.fulfilment ?? { reference: null, note: null };
      const differs =
        (report.reference !== undefined && report.reference !== first.reference) ||
        (report.note !== undefined && report.note !== first.note);
      if (differs)
        throw new TallyError(
          'invalid_state',
          `The invoice's fulfilment was already reported on ${invoice.fulfilledAt.toISOString()} with reference ${JSON.stringify(first.reference)}; a report is final.`,
          { fulfilled_at: invoice.fulfilledAt.toISOString(), reference: first.reference },
        );
      return serializeInvoice(invoice);
    }
    if (!SETTLED_STATUSES.has(invoice.status)) {
      throw new TallyError('invalid_state', `The invoice is ${invoice.status}; fulfil only paid invoices.`);
    }
    const now = tally.clock.now();
    const fulfilment = { reference: report.reference ?? null, note: report.note ?? null };
    const after = await emitInvoiceEvent(trx, invoice, 'invoice.fulfilled', {}, now, {
      fulfilledAt: now,
      fulfilment,
    });
    const json = serializeInvoice(after);
    return json;
  });
}
