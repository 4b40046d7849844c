import type { Tally } from '../context.ts';
import { iso } from '../db/values.ts';

/** How long the outbox may hold an event, or a due delivery may wait, before that is a finding. */
const GRACE_MS = 10 * 60_000;

/**
 * "Every event was delivered or is visibly failing": an event never numbered by the sequencer, or
 * a delivery past due by more than the grace period, means nobody is sending — not a receiver
 * that fails (those have attempts, errors and a failing endpoint to show for it).
 */
export async function checkEventDelivery(tally: Tally) {
  const db = tally.database.db;
  const cutoff = iso(new Date(tally.clock.now().getTime() - GRACE_MS));
  const undispatched = await db
    .selectFrom('events')
    .select('id')
    .where('position', 'is', null)
    .where('created_at', '<', cutoff as never)
    .limit(20)
    .execute();
  const overdue = await db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<', cutoff as never)
    .limit(20)
    .execute();
  const failing = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where((eb) =>
      eb.or([eb('status', '=', 'failed'), eb.and([eb('status', '=', 'pending'), eb('attempts', '>', 0)])]),
    )
    .executeTakeFirst();
  return {
    ok: undispatched.length === 0 && overdue.length === 0,
    undispatched_event_ids: undispatched.map((e) => e.id),
    overdue_delivery_ids: overdue.map((d) => d.id),
    visibly_failing_deliveries: Number(failing?.n ?? 0),
  };
}
