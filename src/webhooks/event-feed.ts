import type { Tally } from '../context.ts';
import { validationError } from '../core/errors.ts';
import { queryTime } from '../core/query-time.ts';
import { sequenceAll } from './outbox-sequencer.ts';

export interface FeedQuery {
  limit: number;
  startingAfter?: string | undefined;
  type?: string | undefined;
  invoiceId?: string | undefined;
  createdGte?: string | undefined;
  createdLt?: string | undefined;
}

/**
 * GET /v1/events: the merchant's events in commit order (outbox position, docs/decisions/0010).
 * `starting_after` is the last event id a receiver saw; the page continues after that event's
 * position, so an event that committed late is never behind the cursor. Reading first catches
 * the sequencer up, so a caller sees every event of writes it has already been answered for.
 */
export async function listFeed(tally: Tally, merchantId: string, q: FeedQuery) {
  const createdGte = q.createdGte ? queryTime(q.createdGte, 'created_gte').toISOString() : undefined;
  const createdLt = q.createdLt ? queryTime(q.createdLt, 'created_lt').toISOString() : undefined;
  await sequenceAll(tally.database, tally.clock.now());
  const db = tally.database.read;
  let after = 0;
  if (q.startingAfter) after = await cursorPosition(tally, merchantId, q.startingAfter);
  let query = db
    .selectFrom('events')
    .select(['id', 'payload', 'position'])
    .where('merchant_id', '=', merchantId)
    .where('position', '>', after)
    .orderBy('position', 'asc')
    .limit(q.limit + 1);
  if (q.type) query = query.where('type', '=', q.type);
  if (q.invoiceId) query = query.where('invoice_id', '=', q.invoiceId);
  if (createdGte) query = query.where('created_at', '>=', createdGte);
  if (createdLt) query = query.where('created_at', '<', createdLt);
  const rows = await query.execute();
  return toEventPage(rows, q.limit);
}

/** One invoice's events by their per-invoice sequence (assigned under the invoice's row lock). */
export async function listInvoiceFeed(tally: Tally, merchantId: string, invoiceId: string, q: FeedQuery) {
  const db = tally.database.read;
  let after = 0;
  if (q.startingAfter) {
    const row = await db
      .selectFrom('events')
      .select('sequence')
      .where('id', '=', q.startingAfter)
      .where('merchant_id', '=', merchantId)
      .where('invoice_id', '=', invoiceId)
      .executeTakeFirst();
    if (!row) throw unknownCursor();
    after = row.sequence;
  }
  let query = db
    .selectFrom('events')
    .select(['id', 'payload'])
    .where('merchant_id', '=', merchantId)
    .where('invoice_id', '=', invoiceId)
    .where('sequence', '>', after)
    .orderBy('sequence', 'asc')
    .orderBy('id', 'asc')
    .limit(q.limit + 1);
  if (q.type) query = query.where('type', '=', q.type);
  return toEventPage(await query.execute(), q.limit);
}

async function cursorPosition(tally: Tally, merchantId: string, eventId: string): Promise<number> {
  const row = await tally.database.read
    .selectFrom('events')
    .select('position')
    .where('id', '=', eventId)
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst();
  if (!row || row.position === null) throw unknownCursor();
  return Number(row.position);
}

/**
 * An unknown cursor is an error, not an empty page: a poller with a mistyped cursor would
 * otherwise believe it is caught up forever. Another merchant's event id is "unknown" too.
 */
function unknownCursor() {
  return validationError([
    { path: 'querystring.starting_after', message: 'is not an event of this merchant' },
  ]);
}

function toEventPage(rows: Array<{ id: string; payload: string }>, limit: number) {
  const page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return {
    object: 'list' as const,
    data: page.map((r) => JSON.parse(r.payload) as Record<string, unknown>),
    has_more: hasMore,
    next_cursor: hasMore ? (page.at(-1)?.id ?? null) : null,
  };
}
