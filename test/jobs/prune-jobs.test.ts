/**
 * Finished jobs are pruned (src/jobs/prune-jobs.ts): a `done` one-shot job's row (an invoice's
 * expiry or window close) goes a week after it finished, in chunks; pending, running and failed
 * jobs, recently finished ones and recurring ones (a wallet's top-up) stay. The
 * prune is itself a recurring job that a gateway's worker runs hourly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/connect.ts';
import { jobRow } from '../../src/jobs/job-store.ts';
import { scheduleMoneyJobs } from '../../src/jobs/money-jobs.ts';
import {
  JOB_RETENTION_MS,
  PRUNE_EVERY_MS,
  pruneFinishedJobs,
  schedulePruneJob,
} from '../../src/jobs/prune-jobs.ts';
import { startGateway } from '../../src/server.ts';
import { DATABASES, type TestDatabase, useMigratedDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

const NOW = new Date('2026-11-21T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const DAY = 24 * 60 * 60_000;

/** An invoice's expiry job in `status`, due at `runAt` and last changed at `updatedAt`. */
async function addJob(
  database: Database,
  key: string,
  status: string,
  runAt: Date,
  updatedAt: Date,
  kind = 'invoice.expire',
) {
  const row = jobRow({ kind, dedupeKey: key, payload: {}, runAt, now: runAt });
  await database.db
    .insertInto('jobs')
    .values({ ...row, status, updated_at: updatedAt.toISOString() })
    .execute();
}

async function keys(database: Database): Promise<string[]> {
  const rows = await database.db.selectFrom('jobs').select('dedupe_key').orderBy('dedupe_key').execute();
  return rows.map((r) => r.dedupe_key);
}

describe.each(DATABASES)('pruning finished jobs on $name', ({ fresh }) => {
  const handle = useMigratedDatabase(fresh);

  it('deletes only jobs done before the retention window', async () => {
    const old = ago(JOB_RETENTION_MS + DAY);
    await addJob(handle.database, 'done-old', 'done', old, old);
    // Due long ago but finished within the window (it waited, or retried): kept.
    await addJob(handle.database, 'done-recent', 'done', old, ago(DAY));
    await addJob(handle.database, 'failed-old', 'failed', old, old);
    await addJob(handle.database, 'pending-old', 'pending', old, old);
    await addJob(handle.database, 'running-old', 'running', old, old);
    await addJob(handle.database, 'window-old', 'done', old, old, 'invoice.window_close');
    // A recurring job keeps its row: re-arming flips it back to pending.
    await addJob(handle.database, 'top-up-old', 'done', old, old, 'wallet.top_up');

    expect(await pruneFinishedJobs(handle.database, NOW)).toEqual({ deleted: 2, more: false });
    expect(await keys(handle.database)).toEqual([
      'done-recent',
      'failed-old',
      'pending-old',
      'running-old',
      'top-up-old',
    ]);
    // Nothing left to prune: a second run deletes nothing.
    expect(await pruneFinishedJobs(handle.database, NOW)).toEqual({ deleted: 0, more: false });
  });

  it('deletes in chunks, at most so many per run, and says when some are left', async () => {
    const old = ago(JOB_RETENTION_MS + DAY);
    for (let i = 0; i < 7; i++) await addJob(handle.database, `done-${i}`, 'done', old, old);
    await addJob(handle.database, 'keep', 'pending', old, old);
    expect(await pruneFinishedJobs(handle.database, NOW, { chunk: 3, chunks: 2 })).toEqual({
      deleted: 6,
      more: true,
    });
    expect(await pruneFinishedJobs(handle.database, NOW, { chunk: 3, chunks: 2 })).toEqual({
      deleted: 1,
      more: false,
    });
    expect(await keys(handle.database)).toEqual(['keep']);
    // Exactly a chunk's worth: the run cannot know none is left until a short chunk.
    for (let i = 0; i < 3; i++) await addJob(handle.database, `again-${i}`, 'done', old, old);
    expect(await pruneFinishedJobs(handle.database, NOW, { chunk: 3, chunks: 5 })).toEqual({
      deleted: 3,
      more: false,
    });
  });
});

describe.each(DATABASES)('the prune job on $name', ({ fresh }) => {
  let testDb: TestDatabase;
  let h: Harness;
  beforeEach(async () => {
    testDb = await fresh();
    h = await createHarness(testDb);
    await h.worker.runDue(); // the wallets' pool top-ups
  });
  afterEach(async () => h?.close());

  it.each([
    { job: 'jobs.prune', arm: (tally: Harness['tally']) => schedulePruneJob(tally) },
    { job: 'reconciliation.run', arm: (tally: Harness['tally']) => scheduleMoneyJobs(tally) },
  ])('re-arms $job at start after it failed for good', async ({ job, arm }) => {
    await arm(h.tally);
    await h.tally.database.db
      .updateTable('jobs')
      .set({ status: 'failed', attempts: 10 })
      .where('dedupe_key', '=', job)
      .execute();
    await arm(h.tally);
    const row = await h.tally.database.db
      .selectFrom('jobs')
      .select(['status', 'attempts'])
      .where('dedupe_key', '=', job)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'pending', attempts: 0 });
  });

  it('is armed once, runs hourly through the worker, and prunes as it runs', async () => {
    await schedulePruneJob(h.tally);
    await schedulePruneJob(h.tally); // a second start (or process) arms nothing more
    const armed = await h.tally.database.db
      .selectFrom('jobs')
      .select(['status', 'run_at'])
      .where('dedupe_key', '=', 'jobs.prune')
      .execute();
    expect(armed).toHaveLength(1);

    const old = new Date(h.clock.now().getTime() - JOB_RETENTION_MS - DAY);
    await addJob(h.tally.database, 'done-old', 'done', old, old);
    h.clock.advance(PRUNE_EVERY_MS);
    await h.worker.runDue();
    const left = await keys(h.tally.database);
    expect(left).not.toContain('done-old');
    const prune = await h.tally.database.db
      .selectFrom('jobs')
      .select(['status', 'run_at'])
      .where('dedupe_key', '=', 'jobs.prune')
      .executeTakeFirstOrThrow();
    expect(prune.status).toBe('pending');
    expect(new Date(prune.run_at).getTime()).toBe(h.clock.now().getTime() + PRUNE_EVERY_MS);
  });
});

describe('a starting gateway', () => {
  it('arms the prune job beside the money jobs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-prune-gw-'));
    try {
      const path = join(dir, 'tally.db');
      const config = loadConfig({
        TALLY_DATABASE_URL: path,
        TALLY_PORT: '0',
        TALLY_LOG_LEVEL: 'silent',
        TALLY_DEVNET: 'off',
      });
      const gateway = await startGateway(config);
      await gateway.stop();
      const db = new SQLite(path, { readonly: true });
      const armed = db
        .prepare(
          "select dedupe_key, status from jobs where kind in ('jobs.prune', 'reconciliation.run') order by 1",
        )
        .all();
      db.close();
      expect(armed).toEqual([
        { dedupe_key: 'jobs.prune', status: 'pending' },
        { dedupe_key: 'reconciliation.run', status: 'pending' },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
