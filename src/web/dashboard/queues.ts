import type { Tally } from '../../context.ts';
import { toDate } from '../../db/values.ts';
import { OPEN_REFUND_STATUSES, serializeRefund } from '../../refunds/refund-rows.ts';
import { formatPrice } from '../format.ts';
import { REVIEW_CLEARED } from './actions.ts';

/**
 * The operational queues (the seeds' "what needs a person now"). Each is a keyset page (newest
 * first, `before` = the last id shown) over an indexed column set, so a queue stays fast however
 * many invoices exist.
 */
export const INVOICE_QUEUES = {
  awaiting_payment: ['created', 'awaiting_payment'],
  detected: ['detected', 'confirming'],
  paid_unfulfilled: ['paid', 'overpaid', 'late_paid'],
} as const;
export type InvoiceQueue = keyof typeof INVOICE_QUEUES;
export const PAGE_SIZE = 50;

export interface InvoiceRow {
  id: string;
  order: string | null;
  status: string;
  amount: string;
  currency: string;
  created: string;
}

/**
 * One keyset page of a queue: one range scan of invoices_merchant_status (merchant_id, status, id)
 * per status, merged newest first. A single `status IN (…) ORDER BY id` lets SQLite (no ANALYZE
 * statistics) walk the merchant's whole id index and filter, which reads every invoice when the
 * queue is rare or empty; per-status scans read at most PAGE_SIZE index entries each.
 */
export async function invoiceQueue(
  tally: Tally,
  merchantId: string,
  queue: InvoiceQueue,
  before?: string,
): Promise<InvoiceRow[]> {
  const pages = await Promise.all(
    INVOICE_QUEUES[queue].map((status) => {
      let q = tally.database.read
        .selectFrom('invoices')
        .select(['id', 'merchant_order_id', 'status', 'price_amount', 'price_currency', 'created_at'])
        .where('merchant_id', '=', merchantId)
        .where('status', '=', status)
        .orderBy('id', 'desc')
        .limit(PAGE_SIZE);
      if (queue === 'paid_unfulfilled') q = q.where('fulfilled_at', 'is', null);
      if (before) q = q.where('id', '<', before);
      return q.execute();
    }),
  );
  return pages
    .flat()
    .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, PAGE_SIZE)
    .map(toInvoiceRow);
}

export function toInvoiceRow(r: {
  id: string;
  merchant_order_id: string | null;
  status: string;
  price_amount: string;
  price_currency: string;
  created_at: string | Date;
}): InvoiceRow {
  return {
    id: r.id,
    order: r.merchant_order_id,
    status: r.status,
    amount: formatPrice(r.price_amount, r.price_currency),
    currency: r.price_currency,
    created: toDate(r.created_at).toISOString(),
  };
}

/**
 * Counts stop at COUNT_CAP ("10000+"): an exact count reads every matching index entry, so it
 * grows with the queue (16 ms for 40,000 awaiting invoices on SQLite, the bulk of the page's
 * time) while nobody acts differently on 10,000 or 40,000.
 */
export const COUNT_CAP = 10_000;

export async function queueCounts(tally: Tally, merchantId: string): Promise<Record<string, number>> {
  const db = tally.database.read;
  const counts: Record<string, number> = {};
  for (const [queue, statuses] of Object.entries(INVOICE_QUEUES)) {
    let inner = db
      .selectFrom('invoices')
      .select('id')
      .where('merchant_id', '=', merchantId)
      .where('status', 'in', [...statuses])
      .limit(COUNT_CAP + 1);
    if (queue === 'paid_unfulfilled') inner = inner.where('fulfilled_at', 'is', null);
    const row = await db
      .selectFrom(inner.as('q'))
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    counts[queue] = Number(row.n);
  }
  const one = async (p: Promise<{ n: string | number | bigint }>) => Number((await p).n);
  counts.exceptions = await one(
    db
      .selectFrom('exceptions')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('merchant_id', '=', merchantId)
      .where('status', '=', 'open')
      .executeTakeFirstOrThrow(),
  );
  counts.review = (await reviewQueue(tally, merchantId)).length;
  counts.failed_webhooks = await one(
    db
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('merchant_id', '=', merchantId)
      .where('status', '=', 'failed')
      .executeTakeFirstOrThrow(),
  );
  counts.refunds = await one(
    db
      .selectFrom('refunds')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('merchant_id', '=', merchantId)
      .where('status', 'in', [...OPEN_REFUND_STATUSES])
      .executeTakeFirstOrThrow(),
  );
  return counts;
}

export async function exceptionCountsByKind(tally: Tally, merchantId: string) {
  const rows = await tally.database.read
    .selectFrom('exceptions')
    .select(['kind', (eb) => eb.fn.countAll().as('n')])
    .where('merchant_id', '=', merchantId)
    .where('status', '=', 'open')
    .groupBy('kind')
    .orderBy('kind')
    .execute();
  return rows.map((r) => ({ kind: r.kind, count: Number(r.n) }));
}

export async function openExceptions(tally: Tally, merchantId: string, kind?: string, before?: string) {
  let q = tally.database.read
    .selectFrom('exceptions')
    .select(['id', 'invoice_id', 'kind', 'created_at', 'status', 'resolution'])
    .where('merchant_id', '=', merchantId)
    .where('status', '=', 'open')
    .orderBy('id', 'desc')
    .limit(PAGE_SIZE);
  if (kind) q = q.where('kind', '=', kind);
  if (before) q = q.where('id', '<', before);
  return q.execute();
}

/**
 * Invoices waiting for a person's review, once each, with their latest mark first. A mark (a
 * support agent's `review` note, or an `escalation` of a wrong-network payment) stays until someone
 * clears it with a later `review_cleared` note; an escalation also ends when its exception is no
 * longer open.
 */
export async function reviewQueue(tally: Tally, merchantId: string) {
  const marks = await tally.database.read
    .selectFrom('invoice_notes as n')
    .leftJoin('exceptions as x', 'x.id', 'n.exception_id')
    .select(['n.id', 'n.invoice_id', 'n.body', 'n.created_at'])
    .where('n.merchant_id', '=', merchantId)
    .where('n.kind', 'in', ['review', 'escalation'])
    .where((eb) => eb.or([eb('n.kind', '=', 'review'), eb('x.status', '=', 'open')]))
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('invoice_notes as c')
            .select('c.id')
            .whereRef('c.invoice_id', '=', 'n.invoice_id')
            .where('c.kind', '=', REVIEW_CLEARED)
            .whereRef('c.id', '>', 'n.id'),
        ),
      ),
    )
    .orderBy('n.id', 'desc')
    .limit(PAGE_SIZE * 4)
    .execute();
  const seen = new Set<string>();
  return marks.filter((m) => !seen.has(m.invoice_id) && seen.add(m.invoice_id)).slice(0, PAGE_SIZE);
}

export async function failedDeliveries(tally: Tally, merchantId: string, before?: string) {
  let q = tally.database.read
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .innerJoin('events as v', 'v.id', 'd.event_id')
    .select(['d.id', 'd.attempts', 'd.last_error', 'd.last_status_code', 'd.updated_at'])
    .select(['e.url', 'v.type', 'v.invoice_id'])
    .where('d.merchant_id', '=', merchantId)
    .where('d.status', '=', 'failed')
    .orderBy('d.id', 'desc')
    .limit(PAGE_SIZE);
  if (before) q = q.where('d.id', '<', before);
  return q.execute();
}

/**
 * Refunds awaiting action (issue 7's `refunds` table): waiting for the customer's address, for an
 * approver, or approved and waiting for the merchant's signed transaction to be seen on chain.
 * Completed and cancelled ones need nobody. Keyset page over refunds_merchant (merchant_id, id).
 */
export async function refundQueue(tally: Tally, merchantId: string, before?: string) {
  let q = tally.database.read
    .selectFrom('refunds')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('status', 'in', [...OPEN_REFUND_STATUSES])
    .orderBy('id', 'desc')
    .limit(PAGE_SIZE);
  if (before) q = q.where('id', '<', before);
  return (await q.execute()).map(serializeRefund);
}
