import { type Kysely, sql, type Transaction } from 'kysely';
import type { Schema } from './schema.ts';

export type WriteUnit<T> = (trx: Transaction<Schema>) => Promise<T>;

interface Pending {
  unit: WriteUnit<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for the embedded SQLite database. better-sqlite3 is synchronous, so each COMMIT
 * blocks the event loop for one fsync (synchronous=FULL). Writes that arrive while a batch is
 * committing wait and go into the next batch: one fsync then covers them all. Each unit runs in
 * its own savepoint, so one failing unit rolls back alone; every promise settles only after the
 * COMMIT that made it durable returned, so a 2xx still means "on disk".
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  private running = false;
  batches = 0;
  units = 0;

  constructor(
    private readonly db: Kysely<Schema>,
    private readonly maxBatch = 256,
  ) {}

  write<T>(unit: WriteUnit<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ unit: unit as WriteUnit<unknown>, resolve: resolve as (v: unknown) => void, reject });
      if (!this.running) {
        this.running = true;
        // setImmediate lets the requests already parsed in this loop turn join the first batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        await this.commitBatch(batch);
      }
    } finally {
      this.running = false;
      if (this.queue.length > 0) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    }
  }

  private async commitBatch(batch: Pending[]): Promise<void> {
    const [only] = batch;
    if (batch.length === 1 && only) {
      // Alone in its batch, a unit needs no savepoint: its failure rolls the transaction back.
      // Two statements fewer, each a hop to the writer thread (the invoice writer's batches are
      // usually alone).
      try {
        const value = await this.db.transaction().execute((trx) => only.unit(trx));
        this.batches += 1;
        this.units += 1;
        only.resolve(value);
      } catch (error) {
        only.reject(error);
      }
      return;
    }
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const item of batch) {
          await sql`savepoint unit`.execute(trx);
          try {
            const value = await item.unit(trx);
            await sql`release savepoint unit`.execute(trx);
            outcomes.push({ ok: true, value });
          } catch (error) {
            await sql`rollback to savepoint unit`.execute(trx);
            await sql`release savepoint unit`.execute(trx);
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    this.batches += 1;
    this.units += batch.length;
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (!outcome) item.reject(new Error('unit outcome missing'));
      else if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }
}
