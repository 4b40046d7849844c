/**
 * Finished jobs are pruned (src/jobs/prune-jobs.ts): a `done` one-shot job's row (an invoice's
 * expiry or window close) goes a week after it finished, in chunks; pending, running and failed
 * jobs, recently finished ones and recurring ones (a wallet's top-up) stay. The
 * prune is itself a recurring job that a gateway's worker runs hourly.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/connect.ts';
import { jobRow } from '../../src/jobs/job-store.ts';
import {
  JOB_RETENTION_MS,
  PRUNE_EVERY_MS,
  pruneFinishedJobs,
  schedulePruneJob,
} from '../../src/jobs/prune-jobs.ts';
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

    expect(await pruneFinishedJobs(handle.database, NOW)).toBe(2);
    expect(await keys(handle.database)).toEqual([
      'done-recent',
      'failed-old',
      'pending-old',
      'running-old',
      'top-up-old',
    ]);
    // Nothing left to prune: a second run deletes nothing.
    expect(await pruneFinishedJobs(handle.database, NOW)).toBe(0);
  });

  it('deletes in chunks until none is left', async () => {
    const old = ago(JOB_RETENTION_MS + DAY);
    for (let i = 0; i < 7; i++) await addJob(handle.database, `done-${i}`, 'done', old, old);
    await addJob(handle.database, 'keep', 'pending', old, old);
    expect(await pruneFinishedJobs(handle.database, NOW, JOB_RETENTION_MS, 3)).toBe(7);
    expect(await keys(handle.database)).toEqual(['keep']);
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
