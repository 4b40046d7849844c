import { type Kysely, sql } from 'kysely';
import type { ColumnTypes } from './column-types.ts';

/**
 * The two indexes on `events.position` only hold sequenced events (decision 0016). An event is
 * written with no position and given one by the sequencer just after its commit, so every event
 * wrote a NULL entry into both indexes with the invoice, and the sequencer then deleted it again:
 * two B-tree writes per event on the invoice-creation path for entries no query reads (the feeds
 * ask `position > n`, the replay `position is not null`; both imply the partial indexes' WHERE).
 *
 * The new indexes are built before the old ones are dropped, so `position` is never without its
 * unique index, and each step may run again (Kysely runs SQLite migrations outside a
 * transaction). On PostgreSQL each CREATE INDEX blocks writes to `events` while it builds.
 */
export async function up(db: Kysely<unknown>, _types: ColumnTypes): Promise<void> {
  const sequenced = sql<boolean>`position is not null`;
  await db.schema
    .createIndex('events_position_sequenced')
    .ifNotExists()
    .on('events')
    .column('position')
    .unique()
    .where(sequenced)
    .execute();
  await db.schema
    .createIndex('events_merchant_position_sequenced')
    .ifNotExists()
    .on('events')
    .columns(['merchant_id', 'position'])
    .where(sequenced)
    .execute();
  await db.schema.dropIndex('events_position').ifExists().execute();
  await db.schema.dropIndex('events_merchant_position').ifExists().execute();
}
