import type { Tally } from '../context.ts';
import { newId } from '../core/ids.ts';
import type { ExceptionsTable } from '../db/schema.ts';
import { iso } from '../db/values.ts';
import { serializeException } from '../exceptions/serialize-exception.ts';
import { emitInvoiceEvent, loadInvoice } from '../invoices/invoice-store.ts';

/**
 * Opens a reconciliation exception on an invoice with its evidence and an `exception.opened`
 * event, unless one of the same kind about the same thing (`subject`) is still open: a mismatch
 * that persists across runs is one item in the queue, not one per run.
 */
export async function openReconciliationException(
  tally: Tally,
  m: {
    merchantId: string;
    invoiceId: string;
    paymentId: string | null;
    kind: string;
    subject: string;
    evidence: Record<string, unknown>;
  },
): Promise<boolean> {
  return tally.database.write(async (trx) => {
    const invoice = await loadInvoice(trx, tally.database.dialect, m.merchantId, m.invoiceId, true);
    if (!invoice) return false;
    const open = await trx
      .selectFrom('exceptions')
      .select(['evidence'])
      .where('invoice_id', '=', m.invoiceId)
      .where('kind', '=', m.kind)
      .where('status', '=', 'open')
      .execute();
    if (open.some((e) => (JSON.parse(e.evidence) as { subject?: string }).subject === m.subject))
      return false;
    const now = tally.clock.now();
    const row: ExceptionsTable = {
      id: newId('exc'),
      merchant_id: m.merchantId,
      invoice_id: m.invoiceId,
      payment_id: m.paymentId,
      kind: m.kind,
      evidence: JSON.stringify({ subject: m.subject, ...m.evidence }),
      status: 'open',
      resolution: null,
      resolved_by: null,
      resolved_reason: null,
      created_at: iso(now),
      resolved_at: null,
    };
    await trx.insertInto('exceptions').values(row).execute();
    // The exceptions API's shape, as in every exception event.
    await emitInvoiceEvent(trx, invoice, 'exception.opened', { exception: serializeException(row) }, now);
    return true;
  });
}
