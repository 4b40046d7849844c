import { sql, type Transaction } from 'kysely';
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
  const endpoints = await database.read
    .selectFrom('webhook_endpoints')
    .select('id')
    .where('enabled', '=', 1)
    .execute();
  const open = endpoints.map((e) => e.id).filter((id) => perEndpoint(id) > 0);
  const candidates: Array<{ id: string; endpoint_id: string }> = [];
  // One index range (endpoint, pending, due) per endpoint, 50 endpoints per statement.
  for (let i = 0; i < open.length; i += 50) {
    const parts = open.slice(i, i + 50).map(
      (endpointId) =>
        sql<{ id: string; endpoint_id: string }>`select * from (select id, endpoint_id from webhook_deliveries
          where endpoint_id = ${endpointId} and status = 'pending' and next_attempt_at <= ${at}
          order by next_attempt_at limit ${Math.min(maxPerEndpoint, perEndpoint(endpointId))}) as due`,
    );
    const result = await sql<{
      id: string;
      endpoint_id: string;
    }>`${sql.join(parts, sql` union all `)}`.execute(database.read);
    candidates.push(...result.rows);
  }
  const chosen: string[] = [];
  const taken = new Map<string, number>();
  for (const c of candidates) {
    const n = taken.get(c.endpoint_id) ?? 0;
    if (n >= perEndpoint(c.endpoint_id) || chosen.length >= limit) continue;
    taken.set(c.endpoint_id, n + 1);
    chosen.push(c.id);
  }
  if (chosen.length === 0) return [];
  const leaseEnd = iso(new Date(now.getTime() + leaseMs));
  const rows =
    database.dialect === 'postgres'
      ? await claimOnPostgres(database, chosen, worker, at, leaseEnd)
      : await claimOnSqlite(database, chosen, worker, at, leaseEnd);
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

interface ClaimedRow {
  id: string;
  merchant_id: string;
  endpoint_id: string;
  event_id: string;
  attempts: number;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: string | Date | null;
  failing_since: string | Date | null;
  payload: string;
}

/**
 * One autocommitted statement: lock (SKIP LOCKED), claim and read what sending needs. Each
 * statement is a round trip; the transaction, lock, update and read were five.
 */
async function claimOnPostgres(
  database: Database,
  chosen: string[],
  worker: string,
  at: string,
  leaseEnd: string,
): Promise<ClaimedRow[]> {
  const result = await sql<ClaimedRow>`
    update webhook_deliveries as d
    set locked_by = ${worker}, locked_until = ${leaseEnd}, next_attempt_at = ${leaseEnd}, updated_at = ${at}
    from webhook_endpoints as e, events as v
    where d.id in (
        select id from webhook_deliveries
        where id in (${sql.join(chosen)}) and status = 'pending' and next_attempt_at <= ${at}
        for update skip locked
      )
      and d.status = 'pending' and d.next_attempt_at <= ${at}
      and e.id = d.endpoint_id and v.id = d.event_id
    returning d.id, d.merchant_id, d.endpoint_id, d.event_id, d.attempts, e.url, e.secret,
      e.previous_secret, e.previous_secret_expires_at, e.failing_since, v.payload`.execute(database.db);
  return result.rows;
}

/** SQLite's RETURNING cannot name the joined tables: claim through the writer, then read. */
async function claimOnSqlite(
  database: Database,
  chosen: string[],
  worker: string,
  at: string,
  leaseEnd: string,
): Promise<ClaimedRow[]> {
  const ids = await database.write(async (trx) => {
    const claimed = await trx
      .updateTable('webhook_deliveries')
      .set({ locked_by: worker, locked_until: leaseEnd, next_attempt_at: leaseEnd, updated_at: at })
      .where('id', 'in', chosen)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', at)
      .returning('id')
      .execute();
    return claimed.map((r) => r.id);
  });
  if (ids.length === 0) return [];
  return database.read
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
}

/** One finished attempt, waiting to be written. */
export interface AttemptRecord {
  delivery: ClaimedDelivery;
  startedAt: Date;
  timestamp: number;
  result: SendResult;
  decision: Decision;
  now: Date;
}

/** A finished attempt that could not be written, and why. */
export interface UnrecordedAttempt {
  record: AttemptRecord;
  error: unknown;
}

/**
 * Records finished attempts: the whole batch in one transaction (the fast path), and if that
 * fails, each attempt in its own. One attempt the database refuses must not leave the others of
 * its batch unrecorded: an unrecorded delivery stays claimed and is sent again when its lease
 * runs out, so every receiver in the batch would get it twice, and again, for as long as the one
 * bad attempt keeps failing the batch. Returns the attempts that still could not be written.
 */
export async function recordAttempts(
  database: Database,
  worker: string,
  records: AttemptRecord[],
): Promise<UnrecordedAttempt[]> {
  if (records.length === 0) return [];
  try {
    await writeAttempts(database, worker, records);
    return [];
  } catch (error) {
    const [only] = records;
    if (only && records.length === 1) return [{ record: only, error }];
  }
  // The failed transaction wrote nothing, so each attempt can be written again on its own.
  const unrecorded: UnrecordedAttempt[] = [];
  for (const record of records) {
    try {
      await writeAttempts(database, worker, [record]);
    } catch (error) {
      unrecorded.push({ record, error });
    }
  }
  return unrecorded;
}

/**
 * Records finished attempts and their consequences in one transaction: the attempt log rows, each
 * delivery's new state, each endpoint's run of failures, and — when a decision says so — the
 * endpoint disabled, its other pending deliveries cancelled, and a `webhook_endpoint.disabled`
 * event (written to the outbox like every event, so other endpoints and the feed learn of it).
 * Batched because at full speed every delivery would otherwise cost its own transaction: the
 * successes (the common case) become one multi-row INSERT and one UPDATE per status code.
 */
async function writeAttempts(database: Database, worker: string, records: AttemptRecord[]): Promise<void> {
  await database.write(async (trx) => {
    const attempts = records.map((r) => ({
      id: newId('wha'),
      delivery_id: r.delivery.id,
      merchant_id: r.delivery.merchantId,
      endpoint_id: r.delivery.endpointId,
      event_id: r.delivery.eventId,
      attempt: r.delivery.attempts + 1,
      started_at: iso(r.startedAt),
      webhook_timestamp: r.timestamp,
      outcome: r.decision.outcome,
      status_code: r.result.kind === 'response' ? r.result.status : null,
      latency_ms: r.result.latencyMs,
      response_body: r.result.kind === 'response' ? r.result.body : null,
      error: r.result.kind === 'response' ? null : r.result.error,
    }));
    for (let i = 0; i < attempts.length; i += 1000)
      await trx
        .insertInto('webhook_attempts')
        .values(attempts.slice(i, i + 1000))
        .execute();

    const succeeded = records.filter((r) => r.decision.status === 'succeeded');
    const byCode = new Map<number, AttemptRecord[]>();
    for (const r of succeeded) {
      const code = r.result.kind === 'response' ? r.result.status : 200;
      byCode.set(code, [...(byCode.get(code) ?? []), r]);
    }
    for (const [code, group] of byCode) {
      const at = iso(group.reduce((t, r) => (r.now > t ? r.now : t), group[0]!.now));
      await trx
        .updateTable('webhook_deliveries')
        .set((eb) => ({
          status: 'succeeded',
          attempts: eb('attempts', '+', 1),
          next_attempt_at: at,
          locked_by: null,
          locked_until: null,
          last_status_code: code,
          last_error: null,
          delivered_at: at,
          updated_at: at,
        }))
        .where(
          'id',
          'in',
          group.map((r) => r.delivery.id),
        )
        .where('locked_by', '=', worker)
        // Cancelled meanwhile (the endpoint was disabled): it stays cancelled; the attempt is logged.
        .where('status', '=', 'pending')
        .execute();
    }
    const recovered = [
      ...new Set(succeeded.filter((r) => r.delivery.failingSince).map((r) => r.delivery.endpointId)),
    ];
    if (recovered.length > 0)
      await trx
        .updateTable('webhook_endpoints')
        .set({ failing_since: null })
        .where('id', 'in', recovered)
        .where('failing_since', 'is not', null)
        .execute();

    for (const r of records.filter((x) => x.decision.status !== 'succeeded'))
      await recordFailure(trx, worker, r);
  });
}

async function recordFailure(trx: Transaction<Schema>, worker: string, r: AttemptRecord): Promise<void> {
  const { delivery: d, decision, result, now } = r;
  const at = iso(now);
  const status = result.kind === 'response' ? result.status : null;
  await trx
    .updateTable('webhook_deliveries')
    .set((eb) => ({
      status: decision.status,
      attempts: eb('attempts', '+', 1),
      next_attempt_at: iso(decision.nextAttemptAt ?? now),
      locked_by: null,
      locked_until: null,
      last_status_code: status,
      last_error: result.kind === 'response' ? `HTTP ${status}` : result.error,
      updated_at: at,
    }))
    .where('id', '=', d.id)
    .where('locked_by', '=', worker)
    .where('status', '=', 'pending')
    .execute();
  await trx
    .updateTable('webhook_endpoints')
    .set({ failing_since: iso(d.failingSince ?? now) })
    .where('id', '=', d.endpointId)
    .where('failing_since', 'is', null)
    .execute();
  if (decision.disable) await disableEndpoint(trx, d.merchantId, d.endpointId, decision.disable, now);
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
