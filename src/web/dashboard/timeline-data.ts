import { listAudit } from '../../audit/audit-log.ts';
import type { Tally } from '../../context.ts';
import { toDate } from '../../db/values.ts';
import { listExceptions } from '../../exceptions/exception-service.ts';
import { getInvoice, listTransitions } from '../../invoices/invoice-queries.ts';
import { listRefunds } from '../../refunds/refund-service.ts';

/**
 * Everything support needs to explain one invoice, from Tally's own records: the intent, options
 * with rates, the policy snapshot, payments, transitions with causes, exceptions, refunds, every
 * webhook attempt, support notes and the audit entries that name it.
 */
export async function loadTimeline(tally: Tally, merchantId: string, invoiceId: string) {
  const db = tally.database.read;
  const invoice = await getInvoice(tally, merchantId, invoiceId);
  const [transitions, exceptions, notes, audit, deliveries, refunds] = await Promise.all([
    listTransitions(tally, merchantId, invoiceId),
    listExceptions(tally, merchantId, { limit: 100, invoiceId }),
    db
      .selectFrom('invoice_notes as n')
      .leftJoin('users as u', 'u.id', 'n.user_id')
      .select(['n.id', 'n.kind', 'n.body', 'n.exception_id', 'n.created_at', 'u.email'])
      .where('n.merchant_id', '=', merchantId)
      .where('n.invoice_id', '=', invoiceId)
      .orderBy('n.id')
      .execute(),
    listAudit(db, merchantId, { limit: 100, targetId: invoiceId }),
    db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('events as v', 'v.id', 'd.event_id')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .select(['d.id', 'd.status', 'd.attempts', 'd.last_status_code', 'd.last_error', 'v.type', 'e.url'])
      .where('d.merchant_id', '=', merchantId)
      .where('v.invoice_id', '=', invoiceId)
      .orderBy('d.id')
      .execute(),
    listRefunds(tally, merchantId, { limit: 100, invoiceId }),
  ]);
  const attempts =
    deliveries.length === 0
      ? []
      : await db
          .selectFrom('webhook_attempts')
          .select(['delivery_id', 'attempt', 'started_at', 'outcome', 'status_code', 'latency_ms', 'error'])
          .where(
            'delivery_id',
            'in',
            deliveries.map((d) => d.id),
          )
          .orderBy('delivery_id')
          .orderBy('attempt')
          .execute();
  return {
    invoice,
    transitions,
    actorEmails: await actorEmails(tally, merchantId, transitions),
    exceptions: exceptions.data,
    notes: notes.map((n) => ({ ...n, created_at: toDate(n.created_at).toISOString() })),
    audit,
    refunds: refunds.data,
    deliveries: deliveries.map((d) => ({
      ...d,
      log: attempts
        .filter((a) => a.delivery_id === d.id)
        .map((a) => ({ ...a, started_at: toDate(a.started_at).toISOString() })),
    })),
  };
}

export type Timeline = Awaited<ReturnType<typeof loadTimeline>>;

/**
 * The emails of the dashboard users who moved the invoice (mark paid, mark failed): a support
 * agent reads "by ops@shop.example", not a user id. A user since deleted keeps their id.
 */
async function actorEmails(
  tally: Tally,
  merchantId: string,
  transitions: ReadonlyArray<{ actor: { kind: string; id: string | null } | null }>,
): Promise<Map<string, string>> {
  const ids = [
    ...new Set(transitions.flatMap((t) => (t.actor?.kind === 'user' && t.actor.id ? [t.actor.id] : []))),
  ];
  if (ids.length === 0) return new Map();
  const users = await tally.database.read
    .selectFrom('users')
    .select(['id', 'email'])
    .where('merchant_id', '=', merchantId)
    .where('id', 'in', ids)
    .execute();
  return new Map(users.map((u) => [u.id, u.email]));
}
