import { CompiledQuery, type Insertable, type Kysely, type Transaction } from 'kysely';
import { newId } from '../core/ids.ts';
import type { DialectName } from '../db/connect.ts';
import { plainInsert } from '../db/plain-insert.ts';
import type { JobsTable, Schema } from '../db/schema.ts';
import { iso } from '../db/values.ts';

type Db = Kysely<Schema> | Transaction<Schema>;

export interface NewJob {
  kind: string;
  /** Unique: enqueueing the same key twice is a no-op, so callers may enqueue freely. */
  dedupeKey: string;
  payload: Record<string, unknown>;
  runAt: Date;
  now: Date;
}

export function jobRow(job: NewJob): Insertable<JobsTable> {
  return {
    id: newId('job'),
    kind: job.kind,
    dedupe_key: job.dedupeKey,
    payload: JSON.stringify(job.payload),
    run_at: iso(job.runAt),
    status: 'pending',
    attempts: 0,
    locked_by: null,
    locked_until: null,
    last_error: null,
    created_at: iso(job.now),
    updated_at: iso(job.now),
  };
}

export async function enqueueJob(db: Db, job: NewJob): Promise<void> {
  await db
    .insertInto('jobs')
    .values(jobRow(job))
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .execute();
}

/**
 * Enqueues the job, or re-arms it if a job with this key already ran (done or failed): for
 * recurring work with one identity, such as refilling one wallet's address pool. A job still
 * pending or running is left alone.
 */
export async function rearmJob(db: Db, job: NewJob): Promise<void> {
  const [insert, rearm] = rearmJobQueries(db, job);
  await insert.execute();
  await rearm.execute();
}

/**
 * rearmJob's two statements, for a caller that runs them with other statements (effect-rows.ts):
 * insert unless the key exists, then flip a finished job back to pending. Not one upsert: on
 * PostgreSQL `ON CONFLICT DO UPDATE … WHERE` locks the existing row even when its WHERE is false,
 * so every invoice batch re-arming a wallet's pending gap check queued on that one row until the
 * batch before it committed. DO NOTHING and an UPDATE whose WHERE does not match take no lock.
 */
export function rearmJobQueries(db: Pick<Db, 'insertInto' | 'updateTable'>, job: NewJob) {
  const insert = db
    .insertInto('jobs')
    .values(jobRow(job))
    .onConflict((oc) => oc.column('dedupe_key').doNothing());
  const rearm = db
    .updateTable('jobs')
    .set({
      status: 'pending',
      run_at: iso(job.runAt),
      attempts: 0,
      last_error: null,
      updated_at: iso(job.now),
    })
    .where('dedupe_key', '=', job.dedupeKey)
    .where('status', 'in', ['done', 'failed']);
  return [insert, rearm] as const;
}

/**
 * rearmJobQueries' two statements written out directly, for SQLite's batch path: Kysely built and
 * compiled them for every invoice batch, 4% of the gateway's main thread under invoice-creation
 * load, for two statements whose shape never changes. test/jobs/job-store.test.ts checks that they
 * are the statements Kysely compiles.
 */
export function rearmJobStatements(job: NewJob): [CompiledQuery, CompiledQuery] {
  const insert = plainInsert('jobs', [jobRow(job)]);
  if (!insert) throw new Error('a job row is always plain');
  return [
    CompiledQuery.raw(`${insert.sql} on conflict ("dedupe_key") do nothing`, [...insert.parameters]),
    CompiledQuery.raw(
      'update "jobs" set "status" = ?, "run_at" = ?, "attempts" = ?, "last_error" = ?, "updated_at" = ? where "dedupe_key" = ? and "status" in (?, ?)',
      ['pending', iso(job.runAt), 0, null, iso(job.now), job.dedupeKey, 'done', 'failed'],
    ),
  ];
}

/**
 * Claims up to `limit` due jobs for `worker`. A job whose lease ran out (its worker died) is due
 * again. On PostgreSQL SKIP LOCKED lets several gateway processes claim disjoint jobs.
 */
export async function claimJobs(
  db: Kysely<Schema>,
  dialect: DialectName,
  worker: string,
  now: Date,
  leaseMs: number,
  limit: number,
): Promise<JobsTable[]> {
  return db.transaction().execute(async (trx) => {
    let due = trx
      .selectFrom('jobs')
      .select('id')
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'pending'), eb('run_at', '<=', iso(now))]),
          eb.and([eb('status', '=', 'running'), eb('locked_until', '<', iso(now))]),
        ]),
      )
      .orderBy('run_at')
      .limit(limit);
    if (dialect === 'postgres') due = due.forUpdate().skipLocked();
    const ids = (await due.execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    return trx
      .updateTable('jobs')
      .set((eb) => ({
        status: 'running',
        locked_by: worker,
        locked_until: iso(new Date(now.getTime() + leaseMs)),
        attempts: eb('attempts', '+', 1),
        updated_at: iso(now),
      }))
      .where('id', 'in', ids)
      .returningAll()
      .execute();
  });
}

export async function completeJob(db: Db, id: string, worker: string, now: Date): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ status: 'done', locked_by: null, locked_until: null, updated_at: iso(now) })
    .where('id', '=', id)
    .where('locked_by', '=', worker)
    .execute();
}

/**
 * Puts a job back to wait until `runAt` (its handler asked to be run later, e.g. a chain watcher is
 * behind). Not a failure: the claim's attempt is given back, so waiting never uses up the retry
 * budget or lengthens the backoff of a later real failure.
 */
export async function rescheduleJob(
  db: Db,
  id: string,
  worker: string,
  now: Date,
  runAt: Date,
): Promise<void> {
  await db
    .updateTable('jobs')
    .set((eb) => ({
      status: 'pending',
      run_at: iso(runAt),
      locked_by: null,
      locked_until: null,
      attempts: eb('attempts', '-', 1),
      updated_at: iso(now),
    }))
    .where('id', '=', id)
    .where('locked_by', '=', worker)
    .execute();
}

export async function retryJob(
  db: Db,
  id: string,
  worker: string,
  now: Date,
  runAt: Date,
  error: string,
  give_up: boolean,
): Promise<void> {
  await db
    .updateTable('jobs')
    .set({
      status: give_up ? 'failed' : 'pending',
      run_at: iso(runAt),
      locked_by: null,
      locked_until: null,
      last_error: error.slice(0, 2000),
      updated_at: iso(now),
    })
    .where('id', '=', id)
    .where('locked_by', '=', worker)
    .execute();
}
