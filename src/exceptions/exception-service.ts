import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';
import { toPage } from '../core/pagination.ts';
import { iso } from '../db/values.ts';
import { emitInvoiceEvent, loadInvoice } from '../invoices/invoice-store.ts';
import { serializeException } from './serialize-exception.ts';

export const EXCEPTION_RESOLUTIONS = [
  'accepted',
  'refund_requested',
  'refunded',
  'dismissed',
  'top_up_requested',
] as const;

export async function listExceptions(
  tally: Tally,
  merchantId: string,
  params: {
    limit: number;
    startingAfter?: string | undefined;
    status?: string | undefined;
    kind?: string | undefined;
    invoiceId?: string | undefined;
  },
) {
  let q = tally.database.read
    .selectFrom('exceptions')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('id', 'desc')
    .limit(params.limit + 1);
  if (params.startingAfter) q = q.where('id', '<', params.startingAfter);
  if (params.status) q = q.where('status', '=', params.status);
  if (params.kind) q = q.where('kind', '=', params.kind);
  if (params.invoiceId) q = q.where('invoice_id', '=', params.invoiceId);
  return toPage(await q.execute(), params.limit, serializeException);
}

export async function getException(tally: Tally, merchantId: string, id: string) {
  const row = await tally.database.read
    .selectFrom('exceptions')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst();
  if (!row) throw new TallyError('not_found', `No exception ${id}.`);
  return serializeException(row);
}

/** Resolves an open exception with who and why; emits exception.resolved in the same transaction. */
export async function resolveException(
  tally: Tally,
  merchantId: string,
  id: string,
  input: { resolution: string; reason: string; actor: string },
) {
  return tally.database.write(async (trx) => {
    const row = await trx
      .selectFrom('exceptions')
      .selectAll()
      .where('id', '=', id)
      .where('merchant_id', '=', merchantId)
      .executeTakeFirst();
    if (!row) throw new TallyError('not_found', `No exception ${id}.`);
    if (row.status !== 'open')
      throw new TallyError('invalid_state', `The exception is already ${row.status}.`);
    const now = tally.clock.now();
    // Guarded on status: of two concurrent resolutions exactly one wins, the other gets 409.
    const changed = await trx
      .updateTable('exceptions')
      .set({
        status: 'resolved',
        resolution: input.resolution,
        resolved_by: input.actor,
        resolved_reason: input.reason,
        resolved_at: iso(now),
      })
      .where('id', '=', id)
      .where('status', '=', 'open')
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) !== 1)
      throw new TallyError('invalid_state', 'The exception was resolved meanwhile.');
    const json = serializeException({
      ...row,
      status: 'resolved',
      resolution: input.resolution,
      resolved_by: input.actor,
      resolved_reason: input.reason,
      resolved_at: iso(now),
    });
    const invoice = await loadInvoice(trx, tally.database.dialect, merchantId, row.invoice_id, true);
    if (!invoice) throw new TallyError('not_found', `No invoice ${row.invoice_id}.`);
    await emitInvoiceEvent(trx, invoice, 'exception.resolved', { exception: json }, now);
    return json;
  });
}
