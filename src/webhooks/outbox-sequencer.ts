import { sql, type Transaction } from 'kysely';
import { newId } from '../core/ids.ts';
import type { Database } from '../db/connect.ts';
import type { Schema } from '../db/schema.ts';
import { isFlagSet, iso } from '../db/values.ts';
import { endpointWants } from './event-filter.ts';

/**
 * The commit-ordered outbox (docs/decisions/0010). Events are written with `position` NULL in
 * the transaction of the change they announce. This sequencer, run after commit, takes the
 * counter row's lock, numbers every committed unsequenced event, and fans each one out into a
 * `webhook_deliveries` row per endpoint that wants it, in one transaction.
 *
 * Why this cannot skip an event: it is a work list, not a cursor. An event whose transaction
 * commits late is simply still NULL at the next run and gets the next position. Sequencers in
 * other processes wait on the counter row, and a position becomes visible only when its
 * transaction commits (releasing the lock), so positions appear to readers in order, gap-free.
 */

/** Events delivered only to the endpoint that asked for them (sent with their delivery row). */
export const TARGETED_EVENT_TYPES: ReadonlySet<string> = new Set(['webhook.test']);

const BATCH = 1000;

export async function sequenceOutbox(database: Database, now: Date, limit = BATCH): Promise<number> {
  // A read first: the common case (nothing new) costs no write and no lock.
  const any = await database.read
    .selectFrom('events')
    .select('id')
    .where('position', 'is', null)
    .limit(1)
    .executeTakeFirst();
  if (!any) return 0;
  return database.write((trx) => sequenceBatch(trx, now, limit));
}

/** Sequences until nothing is left (the catch-up feed reads after this, so it sees its own writes). */
export async function sequenceAll(database: Database, now: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await sequenceOutbox(database, now);
    total += n;
    if (n < BATCH) return total;
  }
}

async function sequenceBatch(trx: Transaction<Schema>, now: Date, limit: number): Promise<number> {
  // The row lock serialises sequencers across processes (PostgreSQL); SQLite has one writer anyway.
  const counter = await trx
    .updateTable('outbox_counters')
    .set((eb) => ({ value: eb.ref('value') }))
    .where('name', '=', 'events')
    .returning('value')
    .executeTakeFirstOrThrow();
  // Read after the lock: under READ COMMITTED this statement sees every sequencer that ran before.
  const events = await trx
    .selectFrom('events')
    .select(['id', 'merchant_id', 'type'])
    .where('position', 'is', null)
    .orderBy('id')
    .limit(limit)
    .execute();
  if (events.length === 0) return 0;
  const first = Number(counter.value) + 1;
  const pairs = events.map((e, i) => sql`select ${e.id} as id, cast(${first + i} as bigint) as pos`);
  // SQLite allows at most 500 terms in a compound SELECT.
  for (let i = 0; i < pairs.length; i += 400) {
    await sql`update events set position = v.pos
      from (${sql.join(pairs.slice(i, i + 400), sql` union all `)}) as v
      where events.id = v.id`.execute(trx);
  }
  await trx
    .updateTable('outbox_counters')
    .set({ value: first + events.length - 1 })
    .where('name', '=', 'events')
    .execute();
  await fanOut(trx, events, now);
  return events.length;
}

async function fanOut(
  trx: Transaction<Schema>,
  events: Array<{ id: string; merchant_id: string; type: string }>,
  now: Date,
): Promise<void> {
  const broadcast = events.filter((e) => !TARGETED_EVENT_TYPES.has(e.type));
  const merchants = [...new Set(broadcast.map((e) => e.merchant_id))];
  if (merchants.length === 0) return;
  const endpoints = await trx
    .selectFrom('webhook_endpoints')
    .select(['id', 'merchant_id', 'event_types', 'enabled'])
    .where('merchant_id', 'in', merchants)
    .where('enabled', '=', 1)
    .execute();
  if (endpoints.length === 0) return;
  const at = iso(now);
  const rows = broadcast.flatMap((e) =>
    endpoints
      .filter((ep) => ep.merchant_id === e.merchant_id && isFlagSet(ep.enabled) && endpointWants(ep, e.type))
      .map((ep) => ({
        id: newId('whd'),
        merchant_id: e.merchant_id,
        endpoint_id: ep.id,
        event_id: e.id,
        status: 'pending',
        attempts: 0,
        next_attempt_at: at,
        locked_by: null,
        locked_until: null,
        last_status_code: null,
        last_error: null,
        delivered_at: null,
        created_at: at,
        updated_at: at,
      })),
  );
  // 14 columns per row; stay under SQLite's bound-parameter limit.
  for (let i = 0; i < rows.length; i += 2000) {
    await trx
      .insertInto('webhook_deliveries')
      .values(rows.slice(i, i + 2000))
      .onConflict((oc) => oc.columns(['event_id', 'endpoint_id']).doNothing())
      .execute();
  }
}
