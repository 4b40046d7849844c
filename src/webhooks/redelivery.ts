import { sql } from 'kysely';
import type { Tally } from '../context.ts';
import { TallyError, validationError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { isFlagSet, iso } from '../db/values.ts';
import { getDelivery } from './delivery-queries.ts';
import { loadEndpoint } from './endpoint-service.ts';
import { endpointWants } from './event-filter.ts';
import { TARGETED_EVENT_TYPES } from './outbox-sequencer.ts';

/** Replays beyond this are refused: ask for a later `since` (or several calls). */
export const MAX_REPLAY_EVENTS = 10_000;

/**
 * Sends one delivery again now, whatever its state (a succeeded one too: the receiver lost it).
 * Same event, same webhook-id, so a deduplicating receiver takes it at most once. A delivery in
 * flight is refused (409) rather than sent twice at the same moment.
 */
export async function redeliver(tally: Tally, merchantId: string, id: string) {
  const current = await getDelivery(tally, merchantId, id);
  const endpoint = await loadEndpoint(tally, merchantId, current.endpoint_id);
  if (!isFlagSet(endpoint.enabled))
    throw new TallyError('invalid_state', 'The endpoint is disabled; enable it before redelivering.');
  const now = iso(tally.clock.now());
  const changed = await tally.database.write((trx) =>
    trx
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', next_attempt_at: now, locked_by: null, locked_until: null, updated_at: now })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
      .executeTakeFirst(),
  );
  if (Number(changed.numUpdatedRows) !== 1)
    throw new TallyError('invalid_state', 'An attempt of this delivery is in flight; try again shortly.');
  return getDelivery(tally, merchantId, id);
}

/**
 * Every event of the merchant since `since` that the endpoint subscribes to is (re)scheduled for
 * it now: existing deliveries are reset to pending, missing ones (events from before the endpoint
 * existed, or while it was disabled) are created.
 */
export async function replaySince(tally: Tally, merchantId: string, endpointId: string, since: Date) {
  const endpoint = await loadEndpoint(tally, merchantId, endpointId);
  if (!isFlagSet(endpoint.enabled))
    throw new TallyError('invalid_state', 'The endpoint is disabled; enable it before replaying.');
  const events = await tally.database.read
    .selectFrom('events')
    .select(['id', 'type'])
    .where('merchant_id', '=', merchantId)
    .where('created_at', '>=', since.toISOString())
    .where('position', 'is not', null)
    .orderBy('position')
    .limit(MAX_REPLAY_EVENTS + 1)
    .execute();
  if (events.length > MAX_REPLAY_EVENTS)
    throw validationError([
      { path: 'since', message: `more than ${MAX_REPLAY_EVENTS} events; choose a later time` },
    ]);
  const wanted = events.filter((e) => !TARGETED_EVENT_TYPES.has(e.type) && endpointWants(endpoint, e.type));
  const now = iso(tally.clock.now());
  await tally.database.write(async (trx) => {
    for (let i = 0; i < wanted.length; i += 1000) {
      await trx
        .insertInto('webhook_deliveries')
        .values(
          wanted.slice(i, i + 1000).map((e) => ({
            id: newId('whd'),
            merchant_id: merchantId,
            endpoint_id: endpointId,
            event_id: e.id,
            status: 'pending',
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            updated_at: now,
          })),
        )
        .onConflict((oc) =>
          oc
            .columns(['event_id', 'endpoint_id'])
            .doUpdateSet({ status: 'pending', next_attempt_at: now, updated_at: now })
            // One already waiting keeps its place; one in flight is not sent twice at once.
            .where(sql.ref('webhook_deliveries.status'), '!=', 'pending'),
        )
        .execute();
    }
  });
  return {
    object: 'webhook_replay' as const,
    endpoint_id: endpointId,
    since: since.toISOString(),
    scheduled: wanted.length,
  };
}
