import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Tally } from '../context.ts';
import { sweepInvoiceClocks } from '../invoices/invoice-clock.ts';
import { JOB_HANDLERS, type JobHandler } from './handlers.ts';
import { claimJobs, completeJob, rescheduleJob, retryJob } from './job-store.ts';

const MAX_ATTEMPTS = 10;
/**
 * A claimed job is leased to this worker; past the lease another worker may take it (the first
 * died). Claims are small and the lease long, so a healthy worker finishes its whole claim well
 * inside the lease and no job runs twice.
 */
export const LEASE_MS = 5 * 60_000;

/** Exponential backoff for failing jobs: 1 s, 2 s, 4 s … capped at 10 minutes. */
export function backoffMs(attempts: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempts - 1), 600_000);
}

/**
 * The durable worker loop: claims due jobs from the jobs table, runs them, and records the
 * outcome; then applies the invoice clocks that are due (src/invoices/invoice-clock.ts). State
 * lives only in the database, so a restart (or a crash mid-job: its lease runs out) resumes where
 * it stopped, and on PostgreSQL any number of gateway processes share the work.
 */
export class Worker {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(
    private readonly tally: Tally,
    private readonly handlers: Record<string, JobHandler> = JOB_HANDLERS,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /**
   * One round: runs every due job once, then sweeps the due invoice clocks (invoice-clock.ts).
   * Returns how much it did (jobs run, clocks moved on); the loop comes straight back while that
   * is more than zero. Tests call this directly.
   */
  async runDue(limit = 10): Promise<number> {
    return (await this.runJobs(limit)) + (await this.sweepClocks());
  }

  private async runJobs(limit: number): Promise<number> {
    const { database, clock, log } = this.tally;
    const jobs = await claimJobs(database.db, database.dialect, this.id, clock.now(), LEASE_MS, limit);
    for (const job of jobs) {
      const handler = this.handlers[job.kind];
      try {
        if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
        const result = await handler(this.tally, JSON.parse(job.payload) as Record<string, unknown>);
        if ('retryAt' in result)
          await rescheduleJob(database.db, job.id, this.id, clock.now(), result.retryAt);
        else await completeJob(database.db, job.id, this.id, clock.now());
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log.warn({ job: job.id, kind: job.kind, attempts: job.attempts, err: message }, 'job failed');
        const giveUp = job.attempts >= MAX_ATTEMPTS;
        await retryJob(
          database.db,
          job.id,
          this.id,
          clock.now(),
          new Date(clock.now().getTime() + backoffMs(job.attempts)),
          message,
          giveUp,
        );
      }
    }
    return jobs.length;
  }

  /**
   * Every gateway process sweeps on every round: a read of a small index when nothing is due. A
   * sweep that fails as a whole (the database is unreachable) is logged and tried on the next
   * round; it never stops the jobs or the loop.
   */
  private async sweepClocks(): Promise<number> {
    try {
      const sweep = await sweepInvoiceClocks(this.tally);
      if (sweep.ticked > 0 || sweep.failed > 0) this.tally.log.info(sweep, 'invoice clocks ticked');
      // Only moved clocks count: failed ones were moved a minute on (or could not be), and waiting
      // or skipped ones are not due again soon, so none of them should spin the loop.
      return sweep.ticked;
    } catch (error) {
      this.tally.log.error(
        { err: error instanceof Error ? error.message : String(error) },
        'invoice clock sweep failed',
      );
      return 0;
    }
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runDue()
        .catch((error) =>
          this.tally.log.error(
            { err: error instanceof Error ? error.message : String(error) },
            'worker loop',
          ),
        )
        .then((n) => this.schedule(n && n > 0 ? 0 : this.tally.config.workerIntervalMs));
    }, delay);
  }
}
