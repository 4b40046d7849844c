/**
 * rearmJob (src/jobs/job-store.ts): enqueue a recurring job, or re-arm it once it has finished,
 * and leave a pending one alone — without locking it. Every invoice batch re-arms its wallet's gap
 * check; an upsert that locked the pending row made concurrent batches on PostgreSQL queue on it.
 */

import type { Transaction } from 'kysely';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/connect.ts';
import type { Schema } from '../../src/db/schema.ts';
import { emptyEffects, insertEffects } from '../../src/invoices/effect-rows.ts';
import { type NewJob, rearmJob, rearmJobQueries, rearmJobStatements } from '../../src/jobs/job-store.ts';
import { DATABASES, freshPostgres, freshSqlite, useMigratedDatabase } from '../helpers/databases.ts';

const job = (key: string, at: string) => ({
  kind: 'wallet.gap_check',
  dedupeKey: key,
  payload: { walletId: 'wal_x' },
  runAt: new Date(at),
  now: new Date(at),
});

async function statusOf(database: Database, key: string) {
  return database.db
    .selectFrom('jobs')
    .select(['status', 'run_at', 'attempts'])
    .where('dedupe_key', '=', key)
    .execute();
}

/**
 * Two ways to re-arm: rearmJob's two statements, and insertEffects, which sends them with a
 * batch's other rows (one statement of data-modifying CTEs on PostgreSQL).
 */
const WAYS = [
  { way: 'rearmJob', rearm: (trx: Transaction<Schema>, _database: Database, j: NewJob) => rearmJob(trx, j) },
  {
    way: 'insertEffects',
    rearm: (trx: Transaction<Schema>, database: Database, j: NewJob) =>
      insertEffects(trx, { ...emptyEffects(), rearm: [j] }, database.dialect),
  },
] as const;
const CASES = DATABASES.flatMap((d) => WAYS.map((w) => ({ ...d, ...w })));

describe.each(CASES)('re-arming a job through $way on $name', ({ fresh, rearm }) => {
  const handle = useMigratedDatabase(fresh, 'all');

  it('enqueues once, leaves a pending job alone, and re-arms a finished one', async () => {
    await handle.database.write((trx) => rearm(trx, handle.database, job('k1', '2026-11-21T12:00:00Z')));
    await handle.database.write((trx) => rearm(trx, handle.database, job('k1', '2026-11-21T13:00:00Z')));
    let rows = await statusOf(handle.database, 'k1');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.status).toBe('pending');
    expect(new Date(rows[0]?.run_at ?? '').toISOString()).toBe('2026-11-21T12:00:00.000Z');

    for (const finished of ['done', 'failed'] as const) {
      await handle.database.db
        .updateTable('jobs')
        .set({ status: finished, attempts: 3 })
        .where('dedupe_key', '=', 'k1')
        .execute();
      await handle.database.write((trx) => rearm(trx, handle.database, job('k1', '2026-11-21T14:00:00Z')));
      rows = await statusOf(handle.database, 'k1');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'pending', attempts: 0 });
      expect(new Date(rows[0]?.run_at ?? '').toISOString()).toBe('2026-11-21T14:00:00.000Z');
    }
  });
});

describe.each(WAYS)('re-arming through $way on postgres, concurrently', ({ rearm }) => {
  const handle = useMigratedDatabase(freshPostgres, 'all');

  it('does not wait for another open transaction that re-armed the same pending job', async () => {
    await handle.database.write((trx) => rearm(trx, handle.database, job('k2', '2026-11-21T12:00:00Z')));
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let armed: () => void = () => {};
    const firstArmed = new Promise<void>((resolve) => {
      armed = resolve;
    });
    const first = handle.database.db.transaction().execute(async (trx) => {
      await rearm(trx, handle.database, job('k2', '2026-11-21T12:00:01Z'));
      armed();
      await held; // keeps its transaction open
    });
    await firstArmed;
    try {
      // Would block until the first transaction ends if the re-arm locked the pending row.
      await handle.database.db.transaction().execute(async (trx) => {
        await sql`set local lock_timeout = '500ms'`.execute(trx);
        await rearm(trx, handle.database, job('k2', '2026-11-21T12:00:02Z'));
      });
    } finally {
      release();
      await first;
    }
    const rows = await statusOf(handle.database, 'k2');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.status).toBe('pending');
  });
});

describe('the re-arm statements SQLite batches send', () => {
  const handle = useMigratedDatabase(freshSqlite, 'all');

  it('are the statements Kysely compiles, apart from the new job id', () => {
    const armed = job('k3', '2026-11-21T12:00:00Z');
    const plain = rearmJobStatements(armed);
    const built = rearmJobQueries(handle.database.db, armed).map((q) => q.compile());
    expect(plain.map((q) => q.sql)).toEqual(built.map((q) => q.sql));
    // The insert's first parameter is a freshly generated job id, different on each call.
    const ids = [plain[0].parameters[0], built[0]?.parameters[0]];
    expect(ids.every((id) => typeof id === 'string' && id.startsWith('job_'))).toBe(true);
    expect(plain[0].parameters.slice(1)).toEqual(built[0]?.parameters.slice(1));
    expect(plain[1].parameters).toEqual(built[1]?.parameters);
  });
});
