import type { Tally } from '../context.ts';
import type { Database } from '../db/connect.ts';
import { iso } from '../db/values.ts';
import type { JobHandler } from './handlers.ts';
import { enqueueJob } from './job-store.ts';

/**
 * How long a finished job's row is kept. Every invoice leaves at least one (its expiry, then its
 * monitoring-window close), so without pruning the jobs table and its three indexes grew by a row
 * per invoice forever. A week keeps recent runs for support to look at (attempts, last error);
 * failed jobs are never pruned: they wait for an operator.
 */
export const JOB_RETENTION_MS = 7 * 24 * 60 * 60_000;

/** How often the prune runs. */
export const PRUNE_EVERY_MS = 60 * 60_000;

/**
 * The one-shot kinds, one row per invoice: the ones that pile up. Recurring jobs keep their one
 * row per wallet or per schedule for good: a wallet's top-up or gap check is re-armed by flipping
 * its finished row back to pending (rearmJob), and on PostgreSQL a prune deleting that row while a
 * batch re-arms it could lose the re-arm.
 */
export const PRUNABLE_KINDS = ['invoice.expire', 'invoice.window_close'];

/** Rows deleted per statement: each delete is one short write, never one long one. */
const PRUNE_CHUNK = 5_000;

/**
 * Deletes one-shot jobs that finished (`done`) before `now − retentionMs`, in chunks; returns how
 * many.
 * Pruning a finished one-shot job lets its dedupe key be enqueued again, which would run it once
 * more: the handlers are idempotent (each applies a fact with a fixed cause id), and nothing
 * enqueues a one-shot key a week after it ran.
 */
export async function pruneFinishedJobs(
  database: Database,
  now: Date,
  retentionMs = JOB_RETENTION_MS,
  chunk = PRUNE_CHUNK,
): Promise<number> {
  const cutoff = iso(new Date(now.getTime() - retentionMs));
  let deleted = 0;
  for (;;) {
    const result = await database.write((trx) =>
      trx
        .deleteFrom('jobs')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('jobs')
            .select('id')
            .where('status', '=', 'done')
            .where('kind', 'in', PRUNABLE_KINDS)
            // A job runs only once it is due, so it finished after run_at: this bound lets the
            // (status, run_at) index find the candidates without reading every finished job.
            .where('run_at', '<', cutoff)
            .where('updated_at', '<', cutoff)
            .limit(chunk),
        )
        .executeTakeFirst(),
    );
    const n = Number(result.numDeletedRows);
    deleted += n;
    if (n < chunk) return deleted;
  }
}

const pruneJobs: JobHandler = async (tally) => {
  const now = tally.clock.now();
  const deleted = await pruneFinishedJobs(tally.database, now);
  if (deleted > 0) tally.log.info({ deleted }, 'finished jobs pruned');
  return { retryAt: new Date(now.getTime() + PRUNE_EVERY_MS) };
};

export const PRUNE_JOB_HANDLERS: Record<string, JobHandler> = { 'jobs.prune': pruneJobs };

/** Arms the recurring prune once (its dedupe key makes this idempotent across starts and processes). */
export async function schedulePruneJob(tally: Tally): Promise<void> {
  const now = tally.clock.now();
  await enqueueJob(tally.database.db, {
    kind: 'jobs.prune',
    dedupeKey: 'jobs.prune',
    payload: {},
    runAt: new Date(now.getTime() + PRUNE_EVERY_MS),
    now,
  });
}
