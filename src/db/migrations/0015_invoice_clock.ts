import { type Kysely, sql } from 'kysely';
import type { ColumnTypes } from './column-types.ts';

/**
 * Each invoice carries its next clock fact (`expiry_due`, then `window_closed`) and when it is
 * due, instead of a job row per invoice (decision 0016). The invoice clock sweep
 * (src/invoices/invoice-clock.ts) finds due invoices through a partial index that holds only
 * invoices whose clock still runs.
 *
 * Invoices created before this migration have their clock taken from their pending, running or
 * failed `invoice.expire` / `invoice.window_close` job (a failed one too: its fact was never
 * applied, and the sweep now retries it). The pending and running ones are then deleted, since
 * the sweep owns that work now; failed ones stay for an operator to see, and done ones are
 * deleted by the job prune after a week like before.
 */
export async function up(db: Kysely<unknown>, types: ColumnTypes): Promise<void> {
  // Kysely runs SQLite's migrations outside a transaction, so each step may find the one before it
  // done by a run that crashed part way: add only missing columns, and the rest repeats harmlessly.
  const invoices = (await db.introspection.getTables()).find((t) => t.name === 'invoices');
  const has = new Set(invoices?.columns.map((c) => c.name));
  if (!has.has('clock_fact'))
    await db.schema.alterTable('invoices').addColumn('clock_fact', 'text').execute();
  if (!has.has('clock_at'))
    await db.schema.alterTable('invoices').addColumn('clock_at', types.time).execute();
  // The window close is later than the expiry, so it is taken second and wins if both are there.
  for (const [kind, prefix, fact] of [
    ['invoice.expire', 'expire:', 'expiry_due'],
    ['invoice.window_close', 'window:', 'window_closed'],
  ] as const) {
    const legacy = sql`from jobs where jobs.kind = ${kind} and jobs.status in ('pending', 'running', 'failed')
      and jobs.dedupe_key = ${prefix} || invoices.id`;
    // Whole milliseconds, as the gateway writes every time: a job's run_at set by hand on
    // PostgreSQL (`now()`) carries microseconds.
    const runAt = types.time === 'text' ? sql`jobs.run_at` : sql`date_trunc('milliseconds', jobs.run_at)`;
    await sql`update invoices set clock_fact = ${fact}, clock_at = (select ${runAt} ${legacy})
      where exists (select 1 ${legacy})`.execute(db);
  }
  await sql`delete from jobs where kind in ('invoice.expire', 'invoice.window_close')
    and status in ('pending', 'running')`.execute(db);
  await db.schema
    .createIndex('invoices_clock')
    .ifNotExists()
    .on('invoices')
    .columns(['clock_at', 'id'])
    .where(sql<boolean>`clock_at is not null`)
    .execute();
}
