import type { Kysely } from 'kysely';
import type { ColumnTypes } from './column-types.ts';

/**
 * Drops `events_merchant` (merchant_id, id). No query reads events by merchant in id order: the
 * feeds page by position (`events_merchant_position`), an invoice's events come by
 * (invoice_id, sequence), and single events by primary key. Yet every event paid for it: one more
 * B-tree written per event, on every invoice creation and state change (decision 0014).
 * On PostgreSQL the drop holds an exclusive lock on `events` until the migration commits: brief,
 * and taken at start-up, but other gateways sharing the database wait on it meanwhile.
 */
export async function up(db: Kysely<unknown>, _types: ColumnTypes): Promise<void> {
  await db.schema.dropIndex('events_merchant').ifExists().execute();
}
