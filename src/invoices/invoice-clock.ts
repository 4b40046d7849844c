import type { Transaction } from 'kysely';
import type { Tally } from '../context.ts';
import type { Schema } from '../db/schema.ts';
import { iso, toDate } from '../db/values.ts';
import { applyFactInTransaction } from './apply-fact.ts';
import { ConcurrentUpdateError } from './invoice-store.ts';
import { type Invoice, monitoringUntil } from './types.ts';

/**
 * The invoice clock: the two facts the clock owes every invoice, `expiry_due` at its expiry and
 * then `window_closed` at the end of its monitoring window. Each invoice row carries the next one
 * and when it is due (`clock_fact`, `clock_at`; null once both ran); the job worker's loop sweeps
 * the due ones on every round (src/jobs/worker.ts).
 *
 * Before, each invoice had a job row for this, written with the invoice: four more B-trees per
 * invoice on the creation path, and a jobs table that grew by a row per invoice. The clock is two
 * columns on a row written anyway, and a partial index that only holds running clocks
 * (decision 0016). It is not a job of its own either: any gateway's worker claims any due job, so
 * during a rolling upgrade a gateway of an earlier version would claim it, fail it for want of a
 * handler, and after ten such failures stop every expiry.
 */
export type ClockFact = 'expiry_due' | 'window_closed';

/** Due invoices read per query. */
export const CLOCK_PAGE = 200;

/**
 * Pages per sweep. The worker runs its jobs and its sweep one after another, so a sweep through a
 * large backlog (say, after a long outage) stops after this many invoices and the worker comes
 * straight back, running the jobs that fell due meanwhile first.
 */
export const CLOCK_PAGES_PER_SWEEP = 10;

/**
 * A tick that failed (the invoice cannot be loaded, say) is tried again this much later: its clock
 * is moved on by this much, so a few broken invoices at the head of the queue never use up every
 * sweep's pages and hold up the expiries behind them. Later is always safe: a clock fact applied
 * late changes nothing a payment's timing depends on (that is decided by its time, not the status).
 */
export const CLOCK_FAILURE_DELAY_MS = 60_000;

export interface ClockSweep {
  /** Invoices whose clock fact was applied (or found not to apply) and whose clock moved on. */
  ticked: number;
  /** Due invoices left for later: a chain watcher of theirs has not read the chain up to the time. */
  waiting: number;
  /** Invoices whose tick failed: logged, and tried again CLOCK_FAILURE_DELAY_MS later. */
  failed: number;
  /** Of those, the ones whose clock was moved on (the write that does it can fail as well). */
  postponed: number;
  /** Invoices another gateway process was ticking at the same moment (PostgreSQL). */
  skipped: number;
  /** True when the sweep stopped at its page limit with due invoices possibly left. */
  more: boolean;
}

interface DueClock {
  id: string;
  merchant_id: string;
  clock_fact: string;
  clock_at: string | Date;
}

/**
 * Applies every due clock fact, oldest first. Fails closed: an invoice waits while the watcher of
 * any of its networks has not read the chain up to the fact's time, because a payment may sit in an
 * unread block. Being caught up to a time implies being caught up to every earlier one, so once a
 * network is found behind, later invoices on it are behind too and the rest of the sweep skips
 * them in its query: a lagging chain never holds up the invoices of the others.
 */
export async function sweepInvoiceClocks(
  tally: Tally,
  options: { page?: number; pages?: number } = {},
): Promise<ClockSweep> {
  const { page = CLOCK_PAGE, pages = CLOCK_PAGES_PER_SWEEP } = options;
  const now = tally.clock.now();
  const behind = new Set<string>();
  const sweep: ClockSweep = { ticked: 0, waiting: 0, failed: 0, postponed: 0, skipped: 0, more: false };
  let after: DueClock | null = null;
  for (let i = 0; i < pages; i++) {
    const due = await dueClocks(tally, now, after, behind, page);
    const networks = await networksOf(
      tally,
      due.map((d) => d.id),
    );
    for (const clock of due) {
      const at = toDate(clock.clock_at);
      const lagging = (networks.get(clock.id) ?? []).filter(
        (n) => behind.has(n) || !tally.chainHealth.caughtUpTo(n, at),
      );
      if (lagging.length > 0) {
        for (const n of lagging) behind.add(n);
        sweep.waiting += 1;
        continue;
      }
      try {
        if (await tick(tally, clock, now)) sweep.ticked += 1;
        else sweep.skipped += 1;
      } catch (error) {
        if (error instanceof ConcurrentUpdateError) {
          sweep.skipped += 1; // changed by another process meanwhile: the next sweep reads it again
          continue;
        }
        tally.log.warn(
          {
            invoice: clock.id,
            fact: clock.clock_fact,
            err: error instanceof Error ? error.message : String(error),
          },
          'invoice clock tick failed; tried again later',
        );
        if (await postpone(tally, clock)) sweep.postponed += 1;
        sweep.failed += 1;
      }
    }
    if (due.length < page) return sweep;
    after = due[due.length - 1] ?? null;
  }
  sweep.more = true;
  return sweep;
}

/** Due clocks after `after` in (clock_at, id) order, leaving out invoices on networks known behind. */
async function dueClocks(
  tally: Tally,
  now: Date,
  after: DueClock | null,
  behind: ReadonlySet<string>,
  limit: number,
): Promise<DueClock[]> {
  // Read outside the write: on SQLite the writer connection is for writes, and each tick reads the
  // clock again under its lock anyway.
  let query = tally.database.read
    .selectFrom('invoices')
    .select(['id', 'merchant_id', 'clock_fact', 'clock_at'])
    .where('clock_at', '<=', iso(now))
    .orderBy('clock_at')
    .orderBy('id')
    .limit(limit);
  if (after) {
    const at = iso(toDate(after.clock_at));
    query = query.where((eb) =>
      eb.or([eb('clock_at', '>', at), eb.and([eb('clock_at', '=', at), eb('id', '>', after.id)])]),
    );
  }
  if (behind.size > 0)
    query = query.where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('payment_options')
            .select('payment_options.id')
            .whereRef('payment_options.invoice_id', '=', 'invoices.id')
            .where('payment_options.network', 'in', [...behind]),
        ),
      ),
    );
  const rows = await query.execute();
  return rows.filter((r): r is DueClock => r.clock_fact !== null && r.clock_at !== null);
}

async function networksOf(tally: Tally, invoiceIds: string[]): Promise<Map<string, string[]>> {
  const byInvoice = new Map<string, string[]>();
  if (invoiceIds.length === 0) return byInvoice;
  const rows = await tally.database.read
    .selectFrom('payment_options')
    .select(['invoice_id', 'network'])
    .where('invoice_id', 'in', invoiceIds)
    .execute();
  for (const row of rows) {
    const list = byInvoice.get(row.invoice_id);
    if (list) list.push(row.network);
    else byInvoice.set(row.invoice_id, [row.network]);
  }
  return byInvoice;
}

/**
 * Applies the invoice's due clock fact and moves its clock on, in one transaction: a crash leaves
 * either both or neither, and a fact applied twice is skipped (applied_facts), so a tick may always
 * run again. Returns false, writing nothing, if the clock is no longer the one the sweep saw or
 * another process holds it (stillTheClockSeen).
 */
async function tick(tally: Tally, clock: DueClock, now: Date): Promise<boolean> {
  const fact = clock.clock_fact as ClockFact;
  return tally.database.write(async (trx) => {
    if (!(await stillTheClockSeen(tally, trx, clock))) return false;
    const outcome = await applyFactInTransaction(tally, trx, clock.merchant_id, clock.id, {
      kind: fact,
      id: fact,
    });
    const next = nextClock(outcome.invoice, fact, now);
    await trx
      .updateTable('invoices')
      .set({ clock_fact: next?.fact ?? null, clock_at: next ? iso(next.at) : null })
      .where('id', '=', clock.id)
      .execute();
    return true;
  });
}

/**
 * Moves a clock whose tick failed CLOCK_FAILURE_DELAY_MS on from the current time, unless it
 * changed meanwhile or another process holds it. Returns false if that write failed too (logged):
 * the sweep goes on to the next invoice either way.
 */
async function postpone(tally: Tally, clock: DueClock): Promise<boolean> {
  try {
    await tally.database.write(async (trx) => {
      if (!(await stillTheClockSeen(tally, trx, clock))) return;
      const later = new Date(tally.clock.now().getTime() + CLOCK_FAILURE_DELAY_MS);
      await trx
        .updateTable('invoices')
        .set({ clock_at: iso(later) })
        .where('id', '=', clock.id)
        .execute();
    });
    return true;
  } catch (error) {
    tally.log.error(
      { invoice: clock.id, err: error instanceof Error ? error.message : String(error) },
      'invoice clock could not be postponed',
    );
    return false;
  }
}

/**
 * Reads the invoice's clock again inside the caller's write, under its row lock: true if it is
 * still the one the sweep saw. False if it moved meanwhile or (PostgreSQL) another gateway process
 * holds the row, which is then left to that process. Times are compared as instants, never as
 * text: a clock stored with another precision or spelling must still match.
 */
async function stillTheClockSeen(tally: Tally, trx: Transaction<Schema>, clock: DueClock): Promise<boolean> {
  let current = trx.selectFrom('invoices').select(['clock_fact', 'clock_at']).where('id', '=', clock.id);
  if (tally.database.dialect === 'postgres') current = current.forUpdate().skipLocked();
  const row = await current.executeTakeFirst();
  return (
    row !== undefined &&
    row.clock_fact === clock.clock_fact &&
    row.clock_at !== null &&
    toDate(row.clock_at).getTime() === toDate(clock.clock_at).getTime()
  );
}

/**
 * What the clock owes the invoice after `fact` ran at `now`. A fact run before its time (the
 * invoice's expiry or window end is later than the clock said, as for an invoice adopted from a
 * legacy job) is run again at that time; otherwise the clock moves on, whether the fact changed the
 * invoice, had already been applied, or does not apply to its status: it never loops on one fact.
 */
export function nextClock(
  invoice: Invoice,
  fact: ClockFact,
  now: Date,
): { fact: ClockFact; at: Date } | null {
  const dueAt = fact === 'expiry_due' ? invoice.expiresAt : monitoringUntil(invoice);
  if (now.getTime() < dueAt.getTime()) return { fact, at: dueAt };
  return fact === 'expiry_due' ? { fact: 'window_closed', at: monitoringUntil(invoice) } : null;
}
