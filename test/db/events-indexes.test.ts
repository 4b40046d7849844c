/**
 * Migration 0014 drops events_merchant, an index no query used (decision 0014). The event reads
 * that filter by merchant still find their rows through an index, never by scanning every event.
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
          }>`select name from sqlite_master where type = 'index' and tbl_name = 'events'`.execute(
            handle.database.read,
          )
        : await sql<{
            name: string;
          }>`select indexname as name from pg_indexes where tablename = 'events'`.execute(
            handle.database.read,
          );
    const names = rows.rows.map((r) => r.name);
    expect(names).not.toContain('events_merchant');
    expect(names).toEqual(expect.arrayContaining(['events_merchant_position', 'events_invoice']));
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

  it('pages a merchant feed through events_merchant_position (webhooks/event-feed.ts)', () => {
    const query = handle.database.read
      .selectFrom('events')
      .select(['id', 'payload', 'position'])
      .where('merchant_id', '=', 'mer_a')
      .where('position', '>', 0)
      .orderBy('position', 'asc')
      .limit(21)
      .compile();
    expect(plan(query)).toMatch(/USING INDEX events_merchant_position/);
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
