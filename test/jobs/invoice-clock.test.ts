/**
 * The invoice clock (src/invoices/invoice-clock.ts): each invoice row carries its next clock fact;
 * the job worker's every round sweeps them. It expires invoices at (never before) their expiry,
 * closes their monitoring window at its end, fails closed per network while a chain watcher lags,
 * works through a backlog in bounded sweeps, moves an invoice that fails out of the way, ticks a
 * clock stored in another precision once, never twice across gateway processes, and adopts the
 * per-invoice jobs of an earlier version.
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALWAYS_CAUGHT_UP } from '../../src/context.ts';
import { openDatabase } from '../../src/db/connect.ts';
import { toDate } from '../../src/db/values.ts';
import { applyFact } from '../../src/invoices/apply-fact.ts';
import { createInvoice } from '../../src/invoices/create-invoice.ts';
import { CLOCK_FAILURE_DELAY_MS, nextClock, sweepInvoiceClocks } from '../../src/invoices/invoice-clock.ts';
import type { InvoiceJson } from '../../src/invoices/serialize.ts';
import { JOB_HANDLERS } from '../../src/jobs/handlers.ts';
import { enqueueJob } from '../../src/jobs/job-store.ts';
import { Worker } from '../../src/jobs/worker.ts';
import { DATABASES, freshPostgres, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

const BTC = {
  price: { amount: '0.001', currency: 'BTC' },
  payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
};
const USDC = {
  price: { amount: '10', currency: 'USD' },
  payment_options: [{ asset: 'USDC', network: 'polygon' }],
};

describe.each(DATABASES)('the invoice clock on $name', ({ fresh }) => {
  let testDb: TestDatabase;
  let h: Harness;
  beforeEach(async () => {
    testDb = await fresh();
    h = await createHarness(testDb);
    await runAll(); // the wallets' pool top-ups
  });
  afterEach(async () => {
    await h?.close();
    await testDb?.drop();
  });

  const runAll = async (worker = h.worker) => {
    let ran = 0;
    for (let n = await worker.runDue(); n > 0; n = await worker.runDue()) ran += n;
    return ran;
  };

  const clockOf = async (invoiceId: string) => {
    const row = await h.tally.database.db
      .selectFrom('invoices')
      .select(['clock_fact', 'clock_at', 'status'])
      .where('id', '=', invoiceId)
      .executeTakeFirstOrThrow();
    return {
      fact: row.clock_fact,
      at: row.clock_at === null ? null : toDate(row.clock_at).getTime(),
      status: row.status,
    };
  };

  /** The clock facts applied to an invoice (applied_facts), in name order. */
  const clockFactsOf = async (invoiceId: string) =>
    (
      await h.tally.database.db
        .selectFrom('applied_facts')
        .select('fact_id')
        .where('invoice_id', '=', invoiceId)
        .where('fact_id', 'in', ['expiry_due', 'window_closed'])
        .orderBy('fact_id')
        .execute()
    ).map((f) => f.fact_id);

  const windowEnd = (invoice: InvoiceJson) =>
    Date.parse(invoice.expires_at) + invoice.policy.monitoring_window_seconds * 1000;

  it('a new invoice starts its clock at its expiry, with no job row of its own', async () => {
    const jobsBefore = await h.tally.database.db.selectFrom('jobs').select('id').execute();
    const invoice = await createInvoice(h.tally, h.merchantId, BTC);
    expect(await clockOf(invoice.id)).toEqual({
      fact: 'expiry_due',
      at: Date.parse(invoice.expires_at),
      status: 'awaiting_payment',
    });
    const jobsAfter = await h.tally.database.db.selectFrom('jobs').select('id').execute();
    expect(jobsAfter).toHaveLength(jobsBefore.length);
  });

  it('expires an invoice at its expiry, never before, then closes its window at the window end', async () => {
    const invoice = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 600 });
    const expiresAt = Date.parse(invoice.expires_at);

    h.clock.set(new Date(expiresAt - 1));
    expect(await sweepInvoiceClocks(h.tally)).toEqual({
      ticked: 0,
      waiting: 0,
      failed: 0,
      postponed: 0,
      skipped: 0,
      more: false,
    });
    expect(await clockOf(invoice.id)).toMatchObject({ fact: 'expiry_due', status: 'awaiting_payment' });

    h.clock.set(new Date(expiresAt));
    expect(await sweepInvoiceClocks(h.tally)).toMatchObject({ ticked: 1, failed: 0 });
    expect(await clockOf(invoice.id)).toEqual({
      fact: 'window_closed',
      at: windowEnd(invoice),
      status: 'expired',
    });
    const transitions = await h.tally.database.db
      .selectFrom('transitions')
      .select(['from_status', 'to_status', 'cause_kind'])
      .where('invoice_id', '=', invoice.id)
      .where('cause_kind', '=', 'expiry_due')
      .execute();
    expect(transitions).toEqual([
      { from_status: 'awaiting_payment', to_status: 'expired', cause_kind: 'expiry_due' },
    ]);

    h.clock.set(new Date(windowEnd(invoice) - 1));
    expect((await sweepInvoiceClocks(h.tally)).ticked).toBe(0);
    h.clock.set(new Date(windowEnd(invoice)));
    expect((await sweepInvoiceClocks(h.tally)).ticked).toBe(1);
    expect(await clockOf(invoice.id)).toEqual({ fact: null, at: null, status: 'expired' });
    expect(await clockFactsOf(invoice.id)).toEqual(['expiry_due', 'window_closed']);
    // A clock that has run out is never swept again.
    h.clock.advance(365 * 24 * 3600_000);
    expect((await sweepInvoiceClocks(h.tally)).ticked).toBe(0);
  });

  it('is swept on every round of the job worker, with no row in the jobs table', async () => {
    const invoice = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 });
    h.clock.advance(59_000);
    expect(await h.worker.runDue()).toBe(0);
    h.clock.advance(1_000);
    expect(await h.worker.runDue()).toBe(1); // the expiry
    expect(await h.worker.runDue()).toBe(0);
    expect((await clockOf(invoice.id)).status).toBe('expired');
    const jobs = await h.tally.database.db.selectFrom('jobs').select('kind').execute();
    expect(jobs.filter((j) => !j.kind.startsWith('wallet.'))).toEqual([]);
  });

  it('runs out on a paid invoice without changing it', async () => {
    const invoice = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 });
    const option = invoice.payment_options[0];
    await applyFact(h.tally, h.merchantId, invoice.id, {
      kind: 'payment_seen',
      id: 'seen:paid',
      payment: {
        paymentId: 'pay_paid',
        optionId: option?.id ?? '',
        txid: 'aa'.repeat(32),
        outputIndex: 0,
        amount: BigInt(option?.amount_due_base_units ?? '0'),
        rbf: false,
        confirmations: 6,
        blockHash: 'bb'.repeat(32),
        blockHeight: 100,
      },
    });
    h.clock.set(new Date(windowEnd(invoice)));
    expect((await sweepInvoiceClocks(h.tally)).ticked).toBe(1); // the expiry
    expect((await sweepInvoiceClocks(h.tally)).ticked).toBe(1); // the window, already due
    expect(await clockOf(invoice.id)).toEqual({ fact: null, at: null, status: 'paid' });
    const clockMoves = await h.tally.database.db
      .selectFrom('transitions')
      .select('id')
      .where('invoice_id', '=', invoice.id)
      .where('cause_kind', 'in', ['expiry_due', 'window_closed'])
      .execute();
    expect(clockMoves).toEqual([]);
  });

  it('fails closed per network: a lagging chain holds its own invoices, never the others', async () => {
    const asked: Array<[string, number]> = [];
    let bitcoinCaughtUp = false;
    h.tally.chainHealth = {
      caughtUpTo: (network, at) => {
        asked.push([network, at.getTime()]);
        return network !== 'bitcoin-regtest' || bitcoinCaughtUp;
      },
      statuses: () => [],
    };
    const btc1 = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 300 });
    h.clock.advance(1_000);
    const btc2 = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 300 });
    h.clock.advance(1_000);
    const usdc = await createInvoice(h.tally, h.merchantId, { ...USDC, expires_in_seconds: 300 });
    // Offered on both networks, polygon first: bitcoin behind is enough to hold it.
    const both = await createInvoice(h.tally, h.merchantId, {
      ...USDC,
      payment_options: [...USDC.payment_options, ...BTC.payment_options],
      expires_in_seconds: 300,
    });
    h.clock.set(new Date(Date.parse(both.expires_at) + 5_000));

    // One invoice per page: once bitcoin is found behind, the next pages leave its invoices out.
    expect(await sweepInvoiceClocks(h.tally, { page: 1, pages: 10 })).toEqual({
      ticked: 1,
      waiting: 1,
      failed: 0,
      postponed: 0,
      skipped: 0,
      more: false,
    });
    expect((await clockOf(btc1.id)).status).toBe('awaiting_payment');
    expect((await clockOf(btc2.id)).status).toBe('awaiting_payment');
    expect((await clockOf(usdc.id)).status).toBe('expired');
    expect((await clockOf(both.id)).status).toBe('awaiting_payment');
    // Bitcoin was asked about once, for the first invoice's expiry; the second was never read.
    expect(asked.filter(([n]) => n === 'bitcoin-regtest')).toEqual([
      ['bitcoin-regtest', Date.parse(btc1.expires_at)],
    ]);

    // Waiting moves nothing: the worker's loop does not spin on it.
    expect(await h.worker.runDue()).toBe(0);

    bitcoinCaughtUp = true;
    expect((await sweepInvoiceClocks(h.tally)).ticked).toBe(3);
    expect((await clockOf(both.id)).status).toBe('expired');
    expect((await clockOf(btc1.id)).status).toBe('expired');
    expect((await clockOf(btc2.id)).status).toBe('expired');
    h.tally.chainHealth = ALWAYS_CAUGHT_UP;
  });

  it('works through a backlog in bounded sweeps, the worker coming straight back', async () => {
    const invoices: InvoiceJson[] = [];
    for (let i = 0; i < 5; i++)
      invoices.push(await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 }));
    h.clock.advance(61_000);
    expect(await sweepInvoiceClocks(h.tally, { page: 2, pages: 2 })).toEqual({
      ticked: 4,
      waiting: 0,
      failed: 0,
      postponed: 0,
      skipped: 0,
      more: true,
    });
    const expired = async () =>
      (await Promise.all(invoices.map((i) => clockOf(i.id)))).filter((c) => c.status === 'expired').length;
    expect(await expired()).toBe(4);
    expect(await h.worker.runDue()).toBe(1);
    expect(await expired()).toBe(5);
  });

  it('moves a clock whose tick fails out of the way: broken invoices never hold up the rest', async () => {
    const broken: InvoiceJson[] = [];
    for (let i = 0; i < 3; i++) {
      broken.push(await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 }));
      h.clock.advance(1_000);
    }
    const fine = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 });
    // Loading these invoices now throws (their policy snapshot is not JSON).
    await h.tally.database.db
      .updateTable('invoices')
      .set({ policy: 'not json' })
      .where(
        'id',
        'in',
        broken.map((b) => b.id),
      )
      .execute();
    h.clock.advance(61_000);
    // Sweeps of two one-invoice pages: the broken ones come first, yet the fine one is reached.
    expect(await sweepInvoiceClocks(h.tally, { page: 1, pages: 2 })).toMatchObject({
      ticked: 0,
      failed: 2,
      postponed: 2,
    });
    expect(await sweepInvoiceClocks(h.tally, { page: 1, pages: 2 })).toMatchObject({
      ticked: 1,
      failed: 1,
      postponed: 1,
    });
    expect((await clockOf(fine.id)).status).toBe('expired');
    for (const b of broken) {
      // Still owed its expiry, a minute on; nothing of the failed tick was written.
      expect(await clockOf(b.id)).toEqual({
        fact: 'expiry_due',
        at: h.clock.now().getTime() + CLOCK_FAILURE_DELAY_MS,
        status: 'awaiting_payment',
      });
      expect(await clockFactsOf(b.id)).toEqual([]);
    }
    expect((await sweepInvoiceClocks(h.tally)).failed).toBe(0); // not due again for a minute
  });

  it('ticks a clock stored with another precision or spelling once, and moves it on', async () => {
    const invoice = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 });
    // PostgreSQL: microseconds a JavaScript Date cannot hold. SQLite: an ISO time without millis.
    await (h.tally.database.dialect === 'postgres'
      ? sql`update invoices set clock_at = clock_at + interval '123 microseconds' where id = ${invoice.id}`
      : sql`update invoices set clock_at = replace(clock_at, '.000Z', 'Z') where id = ${invoice.id}`
    ).execute(h.tally.database.db);
    h.clock.advance(61_000);
    expect(await sweepInvoiceClocks(h.tally, { page: 1, pages: 5 })).toMatchObject({
      ticked: 1,
      more: false,
    });
    expect(await clockOf(invoice.id)).toEqual({
      fact: 'window_closed',
      at: windowEnd(invoice),
      status: 'expired',
    });
  });

  it('a sweep that fails as a whole is logged; the worker runs its jobs and sweeps again next round', async () => {
    const invoice = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 });
    const pings: number[] = [];
    const worker = new Worker(h.tally, {
      ...JOB_HANDLERS,
      'test.ping': async () => {
        pings.push(1);
        return { done: true };
      },
    });
    await enqueueJob(h.tally.database.db, {
      kind: 'test.ping',
      dedupeKey: 'ping',
      payload: {},
      runAt: h.clock.now(),
      now: h.clock.now(),
    });
    h.tally.chainHealth = {
      caughtUpTo: () => {
        throw new Error('watcher state unreadable');
      },
      statuses: () => [],
    };
    h.clock.advance(61_000);
    expect(await worker.runDue()).toBe(1); // the job; the sweep failed
    expect(pings).toEqual([1]);
    expect((await clockOf(invoice.id)).status).toBe('awaiting_payment');
    h.tally.chainHealth = ALWAYS_CAUGHT_UP;
    expect(await worker.runDue()).toBe(1); // the expiry
    expect((await clockOf(invoice.id)).status).toBe('expired');
  });

  it("adopts an earlier version's per-invoice jobs: the clock takes their invoices over", async () => {
    const legacyJob = (
      kind: 'invoice.expire' | 'invoice.window_close',
      invoice: InvoiceJson,
      runAt: number,
    ) =>
      enqueueJob(h.tally.database.db, {
        kind,
        // The keys the earlier version gave them.
        dedupeKey: `${kind === 'invoice.expire' ? 'expire' : 'window'}:${invoice.id}`,
        payload: { merchantId: h.merchantId, invoiceId: invoice.id },
        runAt: new Date(runAt),
        now: h.clock.now(),
      });
    const noClock = (invoice: InvoiceJson) =>
      h.tally.database.db
        .updateTable('invoices')
        .set({ clock_fact: null, clock_at: null })
        .where('id', '=', invoice.id)
        .execute();
    const movesOf = async (invoice: InvoiceJson) =>
      (
        await h.tally.database.db
          .selectFrom('transitions')
          .select('id')
          .where('invoice_id', '=', invoice.id)
          .execute()
      ).length;

    // Written by an earlier gateway: no clock, an expiry job instead.
    const legacy = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 });
    await noClock(legacy);
    await legacyJob('invoice.expire', legacy, Date.parse(legacy.expires_at));
    // Its window job, after the earlier gateway expired it itself.
    const expiredEarlier = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 });
    // A new invoice with its own clock running, and a stray job for it.
    const running = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 600 });
    await legacyJob('invoice.expire', running, Date.parse(running.expires_at));

    h.clock.advance(61_000);
    await runAll(); // the job hands `legacy` to the clock, which expires it in the same round
    expect(await clockOf(legacy.id)).toEqual({
      fact: 'window_closed',
      at: windowEnd(legacy),
      status: 'expired',
    });
    expect((await clockOf(expiredEarlier.id)).status).toBe('expired');
    await noClock(expiredEarlier);
    await legacyJob('invoice.window_close', expiredEarlier, windowEnd(expiredEarlier));

    h.clock.advance(600_000);
    await runAll();
    expect(await clockOf(running.id)).toMatchObject({ fact: 'window_closed', status: 'expired' });
    const runningMoves = await movesOf(running);

    h.clock.set(new Date(windowEnd(expiredEarlier)));
    await runAll();
    expect(await clockOf(expiredEarlier.id)).toEqual({ fact: null, at: null, status: 'expired' });
    expect(await clockFactsOf(expiredEarlier.id)).toEqual(['expiry_due', 'window_closed']);

    // A stray job for an invoice whose clock has run out runs both facts again, as no-ops.
    expect(await clockOf(legacy.id)).toEqual({ fact: null, at: null, status: 'expired' });
    const legacyMoves = await movesOf(legacy);
    await legacyJob('invoice.window_close', legacy, h.clock.now().getTime());
    await runAll();
    expect(await clockOf(legacy.id)).toEqual({ fact: null, at: null, status: 'expired' });
    expect(await movesOf(legacy)).toBe(legacyMoves);
    expect(await movesOf(running)).toBe(runningMoves);
    const jobs = await h.tally.database.db
      .selectFrom('jobs')
      .select('status')
      .where('kind', 'like', 'invoice.%')
      .execute();
    expect(jobs.map((j) => j.status)).toEqual(['done', 'done', 'done', 'done']);
  });
});

describe('the invoice clock across two gateway processes on postgres', () => {
  let testDb: TestDatabase;
  let h: Harness;
  beforeEach(async () => {
    testDb = await freshPostgres();
    h = await createHarness(testDb, { poolTarget: 40 });
    while ((await h.worker.runDue()) > 0) {}
  });
  afterEach(async () => {
    await h?.close();
    await testDb?.drop();
  });

  const statusOf = async (invoiceId: string) =>
    (
      await h.tally.database.db
        .selectFrom('invoices')
        .select('status')
        .where('id', '=', invoiceId)
        .executeTakeFirstOrThrow()
    ).status;

  it('passes over an invoice another process holds, and reaches the ones behind it', async () => {
    const held = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 });
    h.clock.advance(1_000);
    const rest = [
      await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 }),
      await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 }),
    ];
    h.clock.advance(61_000);
    const other = openDatabase({ url: testDb.url });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => {};
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = other.db.transaction().execute(async (trx) => {
      await trx.selectFrom('invoices').select('id').where('id', '=', held.id).forUpdate().execute();
      locked();
      await released;
    });
    try {
      await isLocked;
      // One invoice per page: the held one, first in line, must not be read again on every page.
      expect(await sweepInvoiceClocks(h.tally, { page: 1, pages: 3 })).toMatchObject({
        ticked: 2,
        skipped: 1,
      });
    } finally {
      release();
      await holder;
      await other.close();
    }
    for (const invoice of rest) expect(await statusOf(invoice.id)).toBe('expired');
    expect(await statusOf(held.id)).toBe('awaiting_payment');
    expect((await sweepInvoiceClocks(h.tally)).ticked).toBe(1);
  });

  it('goes on past an invoice whose tick fails and whose clock cannot be moved on either', async () => {
    const broken = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 });
    h.clock.advance(1_000);
    const fine = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 });
    await h.tally.database.db
      .updateTable('invoices')
      .set({ policy: 'not json' })
      .where('id', '=', broken.id)
      .execute();
    // Its clock refuses to move: every write that would postpone it fails.
    await sql`create function refuse_clock() returns trigger language plpgsql as $$
      begin raise exception 'clock frozen'; end $$`.execute(h.tally.database.db);
    await sql`create trigger frozen before update on invoices for each row
      when (new.id = ${sql.lit(broken.id)} and new.clock_at is distinct from old.clock_at)
      execute function refuse_clock()`.execute(h.tally.database.db);
    h.clock.advance(61_000);
    expect(await sweepInvoiceClocks(h.tally)).toMatchObject({ ticked: 1, failed: 1, postponed: 0 });
    expect(await statusOf(fine.id)).toBe('expired');
    // The worker's loop does not spin on it.
    expect(await h.worker.runDue()).toBe(0);
  });

  it('two processes sweeping at once apply each due fact exactly once', async () => {
    const invoices: InvoiceJson[] = [];
    for (let i = 0; i < 30; i++)
      invoices.push(await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 }));
    h.clock.advance(61_000);
    const second = openDatabase({ url: testDb.url });
    try {
      const other = { ...h.tally, database: second };
      const sweeps = await Promise.all([
        sweepInvoiceClocks(h.tally, { page: 5 }),
        sweepInvoiceClocks(other, { page: 5 }),
        sweepInvoiceClocks(h.tally, { page: 7 }),
        sweepInvoiceClocks(other, { page: 7 }),
      ]);
      expect(sweeps.reduce((n, s) => n + s.ticked, 0)).toBe(30);
      expect(sweeps.every((s) => s.failed === 0)).toBe(true);
    } finally {
      await second.close();
    }
    const expiries = await h.tally.database.db
      .selectFrom('transitions')
      .select('invoice_id')
      .where('cause_kind', '=', 'expiry_due')
      .execute();
    expect(expiries.map((t) => t.invoice_id).sort()).toEqual(invoices.map((i) => i.id).sort());
  });
});

describe('nextClock', () => {
  const invoice = (windowSeconds: number) => {
    const expiresAt = new Date('2026-11-21T12:00:00Z');
    return { expiresAt, policy: { monitoringWindowSeconds: windowSeconds } } as unknown as Parameters<
      typeof nextClock
    >[0];
  };
  const at = (iso: string) => new Date(iso);

  it('runs a fact found early again at its own time', () => {
    expect(nextClock(invoice(60), 'expiry_due', at('2026-11-21T11:59:00Z'))).toEqual({
      fact: 'expiry_due',
      at: at('2026-11-21T12:00:00Z'),
    });
    expect(nextClock(invoice(60), 'window_closed', at('2026-11-21T12:00:30Z'))).toEqual({
      fact: 'window_closed',
      at: at('2026-11-21T12:01:00Z'),
    });
  });

  it('moves on from the expiry to the window, and stops after the window', () => {
    expect(nextClock(invoice(60), 'expiry_due', at('2026-11-21T12:00:00Z'))).toEqual({
      fact: 'window_closed',
      at: at('2026-11-21T12:01:00Z'),
    });
    expect(nextClock(invoice(60), 'window_closed', at('2026-11-21T12:01:00Z'))).toBeNull();
  });

  it('never loops on a window of zero length', () => {
    const now = at('2026-11-21T12:00:00Z');
    const first = nextClock(invoice(0), 'expiry_due', now);
    expect(first).toEqual({ fact: 'window_closed', at: now });
    expect(nextClock(invoice(0), 'window_closed', now)).toBeNull();
  });
});
