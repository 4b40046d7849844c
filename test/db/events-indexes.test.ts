/**
 * Migration 0014 drops events_merchant, an index no query used (decision 0014); migration 0016
 * makes the position indexes partial, holding only sequenced events (decision 0016). The event
 * reads that filter by merchant still find their rows through an index, never by scanning every
 * event, and a position is still unique.
 */
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DATABASES, freshSqlite, useMigratedDatabase } from '../helpers/databases.ts';

describe.each(DATABASES)('events indexes on $name', ({ name, fresh }) => {
  const handle = useMigratedDatabase(fresh, 'all');

  it('has no events_merchant index, and keeps the ones the event reads use', async () => {
    const rows =
      name === 'sqlite'
        ? await sql<{
            name: string;
            definition: string;
          }>`select name, sql as definition from sqlite_master where type = 'index' and tbl_name = 'events'`.execute(
            handle.database.read,
          )
        : await sql<{
            name: string;
            definition: string;
          }>`select indexname as name, indexdef as definition from pg_indexes where tablename = 'events'`.execute(
            handle.database.read,
          );
    const names = rows.rows.map((r) => r.name);
    expect(names).not.toContain('events_merchant');
    expect(names).not.toContain('events_position');
    expect(names).not.toContain('events_merchant_position');
    expect(names).toEqual(
      expect.arrayContaining([
        'events_position_sequenced',
        'events_merchant_position_sequenced',
        'events_invoice',
      ]),
    );
    // An event written without a position (every event, until the sequencer runs) adds nothing to them.
    for (const index of ['events_position_sequenced', 'events_merchant_position_sequenced'])
      expect(rows.rows.find((r) => r.name === index)?.definition).toMatch(
        /where \(?"?position"? is not null\)?/i,
      );
  });

  it('still refuses a position given twice', async () => {
    const event = (id: string, position: number | null) => ({
      id,
      merchant_id: 'mer_a',
      invoice_id: null,
      type: 'test.event',
      sequence: 0,
      payload: '{}',
      created_at: '2026-11-22T00:00:00.000Z',
      position,
    });
    await handle.database.db
      .insertInto('merchants')
      .values({ id: 'mer_a', name: 'a', policy: '{}', created_at: '2026-11-22T00:00:00.000Z' })
      .execute();
    // Any number of unsequenced events, but one event per position.
    await handle.database.db
      .insertInto('events')
      .values([event('evt_1', null), event('evt_2', null), event('evt_3', 7)])
      .execute();
    await expect(handle.database.db.insertInto('events').values(event('evt_4', 7)).execute()).rejects.toThrow(
      /unique|UNIQUE/,
    );
  });
});

describe('event reads by merchant on SQLite', () => {
  const handle = useMigratedDatabase(freshSqlite, 'all');

  const plan = (query: { sql: string; parameters: readonly unknown[] }): string => {
    const connection = new SQLite(handle.testDb.url, { readonly: true });
    try {
      const steps = connection.prepare(`explain query plan ${query.sql}`).all(...query.parameters) as Array<{
        detail: string;
      }>;
      return steps.map((s) => s.detail).join('; ');
    } finally {
      connection.close();
    }
  };

  it('pages a merchant feed through events_merchant_position_sequenced (webhooks/event-feed.ts)', () => {
    const query = handle.database.read
      .selectFrom('events')
      .select(['id', 'payload', 'position'])
      .where('merchant_id', '=', 'mer_a')
      .where('position', '>', 0)
      .orderBy('position', 'asc')
      .limit(21)
      .compile();
    expect(plan(query)).toMatch(/USING INDEX events_merchant_position_sequenced/);
  });

  it('replays a merchant’s sequenced events through events_merchant_position_sequenced (webhooks/redelivery.ts)', () => {
    const query = handle.database.read
      .selectFrom('events')
      .select(['id', 'type'])
      .where('merchant_id', '=', 'mer_a')
      .where('created_at', '>=', '2026-11-01T00:00:00.000Z')
      .where('position', 'is not', null)
      .orderBy('position')
      .limit(10_001)
      .compile();
    expect(plan(query)).toMatch(/USING INDEX events_merchant_position_sequenced/);
  });

  it('finds a merchant’s events by id through the primary key (dashboard deliveries page)', () => {
    const query = handle.database.read
      .selectFrom('events')
      .select(['id', 'type', 'invoice_id'])
      .where('merchant_id', '=', 'mer_a')
      .where('id', 'in', ['evt_a', 'evt_b'])
      .compile();
    const detail = plan(query);
    expect(detail).toMatch(/USING INDEX sqlite_autoindex_events_1/);
    expect(detail).not.toMatch(/SCAN events(?! USING)/);
  });
});
