import type { Transaction } from 'kysely';
import { newId } from '../core/ids.ts';
import type { Database } from '../db/connect.ts';
import type { Schema } from '../db/schema.ts';
import { iso, toDate, toDateOrNull } from '../db/values.ts';
import { eventRow } from '../invoices/effect-rows.ts';
import type { Decision, SendResult } from './attempt-outcome.ts';

/** A claimed delivery with what is needed to send it. */
export interface ClaimedDelivery {
  id: string;
  merchantId: string;
  endpointId: string;
  eventId: string;
  attempts: number;
  url: string;
  secrets: string[];
  failingSince: Date | null;
  payload: string;
}

/**
 * Claims due deliveries, at most `perEndpoint(endpointId)` per endpoint, so one endpoint's backlog
 * can never take the slots of another (each endpoint's due rows are read through its own index
 * range). A claim moves `next_attempt_at` to the end of the lease: while in flight the row is not
 * due, and if this process dies it becomes due again when the lease runs out. On PostgreSQL, SKIP
 * LOCKED lets several gateway processes claim disjoint rows; the re-checked WHERE of the UPDATE
 * means a row is never claimed twice even if two processes read the same candidates.
 */
export async function claimDeliveries(
  database: Database,
  worker: string,
  now: Date,
  leaseMs: number,
  perEndpoint: (endpointId: string) => number,
  maxPerEndpoint: number,
  limit: number,
): Promise<ClaimedDelivery[]> {
  const at = iso(now);
  // Cheap check first: an idle gateway polls this, and it touches one index entry.
  const due = await database.read
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', at)
    .limit(1)
    .executeTakeFirst();
  if (!due) return [];
  const candidates = await database.read
    .selectFrom('webhook_endpoints as e')
    .innerJoin('webhook_deliveries as d', 'd.endpoint_id', 'e.id')
    .select(['d.id', 'd.endpoint_id'])
    .where('e.enabled', '=', 1)
    .where('d.id', 'in', (eb) =>
      eb
        .selectFrom('webhook_deliveries as x')
        .select('x.id')
        .whereRef('x.endpoint_id', '=', 'e.id')
        .where('x.status', '=', 'pending')
        .where('x.next_attempt_at', '<=', at)
        .orderBy('x.next_attempt_at')
        .limit(maxPerEndpoint),
    )
    .execute();
  const chosen: string[] = [];
  const taken = new Map<string, number>();
  for (const c of candidates) {
    const n = taken.get(c.endpoint_id) ?? 0;
    if (n >= perEndpoint(c.endpoint_id) || chosen.length >= limit) continue;
    taken.set(c.endpoint_id, n + 1);
    chosen.push(c.id);
  }
  if (chosen.length === 0) return [];
  const ids = await database.write(async (trx) => {
    let lockable = trx
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('id', 'in', chosen)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', at);
    if (database.dialect === 'postgres') lockable = lockable.forUpdate().skipLocked();
    const free = (await lockable.execute()).map((r) => r.id);
    if (free.length === 0) return [];
    const leaseEnd = iso(new Date(now.getTime() + leaseMs));
    const claimed = await trx
      .updateTable('webhook_deliveries')
      .set({ locked_by: worker, locked_until: leaseEnd, next_attempt_at: leaseEnd, updated_at: at })
      .where('id', 'in', free)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', at)
      .returning('id')
      .execute();
    return claimed.map((r) => r.id);
  });
  if (ids.length === 0) return [];
  const rows = await database.read
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .innerJoin('events as v', 'v.id', 'd.event_id')
    .select([
      'd.id',
      'd.merchant_id',
      'd.endpoint_id',
      'd.event_id',
      'd.attempts',
      'e.url',
      'e.secret',
      'e.previous_secret',
      'e.previous_secret_expires_at',
      'e.failing_since',
      'v.payload',
    ])
    .where('d.id', 'in', ids)
    .execute();
  return rows.map((r) => {
    const previousValid =
      r.previous_secret !== null &&
      r.previous_secret_expires_at !== null &&
      toDate(r.previous_secret_expires_at) > now;
    return {
      id: r.id,
      merchantId: r.merchant_id,
      endpointId: r.endpoint_id,
      eventId: r.event_id,
      attempts: r.attempts,
      url: r.url,
      secrets: previousValid && r.previous_secret ? [r.secret, r.previous_secret] : [r.secret],
      failingSince: toDateOrNull(r.failing_since),
      payload: r.payload,
    };
  });
}

/**
 * Records one attempt and its consequences in one transaction: the attempt log row, the
 * delivery's new state, the endpoint's run of failures, and — when the decision says so — the
 * endpoint disabled, its other pending deliveries cancelled, and a `webhook_endpoint.disabled`
 * event (written to the outbox like every event, so other endpoints and the feed learn of it).
 */
export async function recordAttempt(
  database: Database,
  worker: string,
  d: ClaimedDelivery,
  startedAt: Date,
  timestamp: number,
  result: SendResult,
  decision: Decision,
  now: Date,
): Promise<void> {
  const at = iso(now);
  const status = result.kind === 'response' ? result.status : null;
  const error = result.kind === 'response' ? null : result.error;
  await database.write(async (trx) => {
    await trx
      .insertInto('webhook_attempts')
      .values({
        id: newId('wha'),
        delivery_id: d.id,
        merchant_id: d.merchantId,
        endpoint_id: d.endpointId,
        event_id: d.eventId,
        attempt: d.attempts + 1,
        started_at: iso(startedAt),
        webhook_timestamp: timestamp,
        outcome: decision.outcome,
        status_code: status,
        latency_ms: result.latencyMs,
        response_body: result.kind === 'response' ? result.body : null,
        error,
      })
      .execute();
    await trx
      .updateTable('webhook_deliveries')
      .set((eb) => ({
        status: decision.status,
        attempts: eb('attempts', '+', 1),
        next_attempt_at: iso(decision.nextAttemptAt ?? now),
        locked_by: null,
        locked_until: null,
        last_status_code: status,
        last_error: error ?? (decision.outcome === 'succeeded' ? null : `HTTP ${status}`),
        delivered_at: decision.status === 'succeeded' ? at : null,
        updated_at: at,
      }))
      .where('id', '=', d.id)
      .where('locked_by', '=', worker)
      // Cancelled meanwhile (the endpoint was disabled): it stays cancelled; the attempt is logged.
      .where('status', '=', 'pending')
      .execute();
    if (decision.outcome === 'succeeded') {
      await trx
        .updateTable('webhook_endpoints')
        .set({ failing_since: null })
        .where('id', '=', d.endpointId)
        .where('failing_since', 'is not', null)
        .execute();
    } else {
      await trx
        .updateTable('webhook_endpoints')
        .set({ failing_since: iso(d.failingSince ?? now) })
        .where('id', '=', d.endpointId)
        .where('failing_since', 'is', null)
        .execute();
    }
    if (decision.disable) await disableEndpoint(trx, d.merchantId, d.endpointId, decision.disable, now);
  });
}

export async function disableEndpoint(
  trx: Transaction<Schema>,
  merchantId: string,
  endpointId: string,
  reason: string,
  now: Date,
): Promise<void> {
  const at = iso(now);
  const changed = await trx
    .updateTable('webhook_endpoints')
    .set({ enabled: 0, disabled_reason: reason, disabled_at: at, updated_at: at })
    .where('id', '=', endpointId)
    .where('enabled', '=', 1)
    .returning(['id', 'url', 'description'])
    .executeTakeFirst();
  if (!changed) return; // already disabled: one event per disabling
  await trx
    .updateTable('webhook_deliveries')
    .set({ status: 'cancelled', last_error: `endpoint disabled: ${reason}`, updated_at: at })
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'pending')
    .execute();
  const event = eventRow(
    merchantId,
    null,
    'webhook_endpoint.disabled',
    0,
    {
      endpoint: { id: changed.id, url: changed.url, description: changed.description },
      reason,
      disabled_at: at,
    },
    now,
  );
  await trx.insertInto('events').values(event).execute();
}
