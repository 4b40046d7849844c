import type { Tally } from '../context.ts';
import type { Database } from '../db/connect.ts';
import { iso } from '../db/values.ts';
import type { JobHandler } from './handlers.ts';
import { rearmJob } from './job-store.ts';

/**
 * How long a finished job's row is kept. Until migration 0015 every invoice left at least one (its
 * expiry, then its monitoring-window close), so without pruning the jobs table and its three
 * indexes grew by a row per invoice forever. A week keeps recent runs for support to look at
 * (attempts, last error); failed jobs are never pruned: they wait for an operator.
 */
export const JOB_RETENTION_MS = 7 * 24 * 60 * 60_000;

/** How often the prune runs. */
export const PRUNE_EVERY_MS = 60 * 60_000;

/**
 * The one-shot kinds, one row per invoice: the ones that pile up. Since migration 0015 the invoice
 * clock does their work (decision 0016), so only rows from before it, and those a gateway of an
 * earlier version still enqueues during a rolling upgrade, are left to prune. Recurring jobs keep
 * their one row per wallet or per schedule for good: a wallet's top-up or gap check is re-armed by
 * flipping its finished row back to pending (rearmJob), and on PostgreSQL a prune deleting that
 * row while a batch re-arms it could lose the re-arm.
 */
export const PRUNABLE_KINDS = ['invoice.expire', 'invoice.window_close'];

/** Rows deleted per statement: each delete is one short write, never one long one. */
const PRUNE_CHUNK = 5_000;

/**
 * Statements per run. The worker runs the jobs it claimed one after another, so a run that cleared
 * a deployment's whole backlog (millions of rows, the first time) would hold up expiries behind it
 * and could outlast the job's lease; a run that stops with rows left comes back in seconds.
 */
const PRUNE_CHUNKS_PER_RUN = 20;

/** When a run stopped with rows left, the next one starts this soon. */
const PRUNE_AGAIN_MS = 5_000;

/**
 * Deletes one-shot jobs that finished (`done`) before `now − retentionMs`, at most `chunks`
 * statements of `chunk` rows; returns how many it deleted and whether some may be left.
 * Pruning a finished one-shot job lets its dedupe key be enqueued again, which would run it once
 * more: the handlers are idempotent (each applies a fact with a fixed id, recorded once per
 * invoice), and nothing enqueues an invoice's expiry or window close again.
 */
export async function pruneFinishedJobs(
  database: Database,
  now: Date,
  options: { retentionMs?: number; chunk?: number; chunks?: number } = {},
): Promise<{ deleted: number; more: boolean }> {
  const { retentionMs = JOB_RETENTION_MS, chunk = PRUNE_CHUNK, chunks = PRUNE_CHUNKS_PER_RUN } = options;
  const cutoff = iso(new Date(now.getTime() - retentionMs));
  let deleted = 0;
  for (let i = 0; i < chunks; i++) {
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
    if (n < chunk) return { deleted, more: false };
  }
  return { deleted, more: true };
}

const pruneJobs: JobHandler = async (tally) => {
  const now = tally.clock.now();
  const { deleted, more } = await pruneFinishedJobs(tally.database, now);
  if (deleted > 0) tally.log.info({ deleted, more }, 'finished jobs pruned');
  return { retryAt: new Date(now.getTime() + (more ? PRUNE_AGAIN_MS : PRUNE_EVERY_MS)) };
};

export const PRUNE_JOB_HANDLERS: Record<string, JobHandler> = { 'jobs.prune': pruneJobs };

/**
 * Arms the recurring prune (its dedupe key makes this idempotent across starts and processes), and
 * re-arms it if it ever failed for good: a recurring job must not stop for the life of the database
 * because of ten passing errors.
 */
export async function schedulePruneJob(tally: Tally): Promise<void> {
  const now = tally.clock.now();
  await rearmJob(tally.database.db, {
    kind: 'jobs.prune',
    dedupeKey: 'jobs.prune',
    payload: {},
    runAt: new Date(now.getTime() + PRUNE_EVERY_MS),
    now,
  });
}
