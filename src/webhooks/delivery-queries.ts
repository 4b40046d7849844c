import type { Selectable } from 'kysely';
import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';
import { toPage } from '../core/pagination.ts';
import type { WebhookAttemptsTable, WebhookDeliveriesTable } from '../db/schema.ts';
import { toDateOrNull } from '../db/values.ts';

const time = (v: string | Date | null) => toDateOrNull(v)?.toISOString() ?? null;

export function serializeDelivery(d: Selectable<WebhookDeliveriesTable>) {
  return {
    id: d.id,
    object: 'webhook_delivery' as const,
    endpoint_id: d.endpoint_id,
    event_id: d.event_id,
    status: d.status,
    attempts: d.attempts,
    // While pending this is when the next attempt is due (or, mid-attempt, when its lease ends).
    next_attempt_at: d.status === 'pending' ? time(d.next_attempt_at) : null,
    last_status_code: d.last_status_code,
    last_error: d.last_error,
    delivered_at: time(d.delivered_at),
    created_at: time(d.created_at),
    updated_at: time(d.updated_at),
  };
}

export function serializeAttempt(a: Selectable<WebhookAttemptsTable>) {
  return {
    id: a.id,
    attempt: a.attempt,
    started_at: time(a.started_at),
    webhook_timestamp: Number(a.webhook_timestamp),
    outcome: a.outcome,
    status_code: a.status_code,
    latency_ms: a.latency_ms,
    response_body: a.response_body,
    error: a.error,
  };
}

export interface DeliveryListQuery {
  limit: number;
  startingAfter?: string | undefined;
  status?: string | undefined;
}

/** Deliveries of one endpoint or one event, newest first. */
export async function listDeliveries(
  tally: Tally,
  merchantId: string,
  by: { endpointId: string } | { eventId: string },
  q: DeliveryListQuery,
) {
  let query = tally.database.read
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('id', 'desc')
    .limit(q.limit + 1);
  query =
    'endpointId' in by
      ? query.where('endpoint_id', '=', by.endpointId)
      : query.where('event_id', '=', by.eventId);
  if (q.startingAfter) query = query.where('id', '<', q.startingAfter);
  if (q.status) query = query.where('status', '=', q.status);
  return toPage(await query.execute(), q.limit, serializeDelivery);
}

/** One delivery with its whole attempt log, oldest attempt first. */
export async function getDelivery(tally: Tally, merchantId: string, id: string) {
  const d = await tally.database.read
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst();
  if (!d) throw new TallyError('not_found', `No webhook delivery ${id}.`);
  const attempts = await tally.database.read
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('delivery_id', '=', id)
    .orderBy('attempt')
    .orderBy('id')
    .execute();
  return { ...serializeDelivery(d), attempt_log: attempts.map(serializeAttempt) };
}

export async function assertEventExists(tally: Tally, merchantId: string, eventId: string): Promise<void> {
  const e = await tally.database.read
    .selectFrom('events')
    .select('id')
    .where('id', '=', eventId)
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst();
  if (!e) throw new TallyError('not_found', `No event ${eventId}.`);
}
