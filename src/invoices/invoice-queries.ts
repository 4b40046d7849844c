import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';
import { toPage } from '../core/pagination.ts';
import { toDate } from '../db/values.ts';
import { loadInvoice } from './invoice-store.ts';
import { type InvoiceJson, serializeInvoice } from './serialize.ts';

/**
 * The invoice row, its options and its payments are read in one snapshot (a read transaction,
 * REPEATABLE READ on PostgreSQL), so a response never pairs a status with payments of another moment.
 */
export async function getInvoice(tally: Tally, merchantId: string, id: string): Promise<InvoiceJson> {
  const invoice = await tally.database.read
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute((trx) => loadInvoice(trx, tally.database.dialect, merchantId, id));
  if (!invoice) throw new TallyError('not_found', `No invoice ${id}.`);
  return serializeInvoice(invoice);
}

export interface ListParams {
  limit: number;
  startingAfter?: string | undefined;
  status?: string | undefined;
  merchantOrderId?: string | undefined;
  customerId?: string | undefined;
}

/**
 * Newest first, keyset-paginated on the time-sortable id: `starting_after` is the last id of the
 * previous page, so pages stay stable while new invoices arrive.
 */
export async function listInvoices(tally: Tally, merchantId: string, params: ListParams) {
  let query = tally.database.read
    .selectFrom('invoices')
    .select('id')
    .where('merchant_id', '=', merchantId)
    .orderBy('id', 'desc')
    .limit(params.limit + 1);
  if (params.startingAfter) query = query.where('id', '<', params.startingAfter);
  if (params.status) query = query.where('status', '=', params.status);
  if (params.merchantOrderId) query = query.where('merchant_order_id', '=', params.merchantOrderId);
  if (params.customerId) query = query.where('customer_id', '=', params.customerId);
  const list = toPage(await query.execute(), params.limit, (r) => r.id);
  const data: InvoiceJson[] = [];
  for (const id of list.data) data.push(await getInvoice(tally, merchantId, id));
  return { ...list, data };
}

export async function listTransitions(tally: Tally, merchantId: string, invoiceId: string) {
  const rows = await tally.database.read
    .selectFrom('transitions')
    .selectAll()
    .where('invoice_id', '=', invoiceId)
    .where('merchant_id', '=', merchantId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    from: r.from_status,
    to: r.to_status,
    cause: { kind: r.cause_kind, id: r.cause_id },
    actor: r.actor_kind ? { kind: r.actor_kind, id: r.actor_id } : null,
    reason: r.reason,
    created_at: toDate(r.created_at).toISOString(),
  }));
}
