/**
 * The invoice clock (src/invoices/invoice-clock.ts, src/jobs/invoice-clock-job.ts): each invoice
 * row carries its next clock fact; a recurring sweep expires invoices at (never before) their
 * expiry, closes their monitoring window at its end, fails closed per network while a chain
 * watcher lags, works through a backlog in bounded sweeps, isolates an invoice that fails, never
 * fails as a job, and adopts the per-invoice jobs of an earlier version.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALWAYS_CAUGHT_UP } from '../../src/context.ts';
import { toDate } from '../../src/db/values.ts';
import { applyFact } from '../../src/invoices/apply-fact.ts';
import { createInvoice } from '../../src/invoices/create-invoice.ts';
import { nextClock, sweepInvoiceClocks } from '../../src/invoices/invoice-clock.ts';
import type { InvoiceJson } from '../../src/invoices/serialize.ts';
import { JOB_HANDLERS } from '../../src/jobs/handlers.ts';
import { CLOCK_EVERY_MS, CLOCK_RETRY_MS, clockSweepJob } from '../../src/jobs/invoice-clock-job.ts';
import { enqueueJob } from '../../src/jobs/job-store.ts';
import { Worker } from '../../src/jobs/worker.ts';
import { DATABASES, type TestDatabase } from '../helpers/databases.ts';
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
    await runAll(); // the wallets' pool top-ups, and a first (empty) sweep
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

  const clockJob = () =>
    h.tally.database.db
      .selectFrom('jobs')
      .selectAll()
      .where('dedupe_key', '=', 'invoices.clock')
      .executeTakeFirstOrThrow();

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
    expect(await sweepInvoiceClocks(h.tally)).toEqual({ ticked: 0, waiting: 0, failed: 0, more: false });
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
    const facts = await h.tally.database.db
      .selectFrom('applied_facts')
      .select('fact_id')
      .where('invoice_id', '=', invoice.id)
      .where('fact_id', 'in', ['expiry_due', 'window_closed'])
      .orderBy('fact_id')
      .execute();
    expect(facts.map((f) => f.fact_id)).toEqual(['expiry_due', 'window_closed']);
    // A clock that has run out is never swept again.
    h.clock.advance(365 * 24 * 3600_000);
    expect((await sweepInvoiceClocks(h.tally)).ticked).toBe(0);
  });

  it('runs as one recurring job that comes back every CLOCK_EVERY_MS and is never done', async () => {
    const invoice = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 });
    h.clock.advance(61_000);
    expect(await runAll()).toBe(1);
    expect((await clockOf(invoice.id)).status).toBe('expired');
    const job = await clockJob();
    expect(job).toMatchObject({ kind: 'invoices.clock', status: 'pending', attempts: 0, last_error: null });
    expect(toDate(job.run_at).getTime()).toBe(h.clock.now().getTime() + CLOCK_EVERY_MS);
    h.clock.advance(CLOCK_EVERY_MS - 1);
    expect(await runAll()).toBe(0);
    h.clock.advance(1);
    expect(await runAll()).toBe(1);
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
    h.clock.set(new Date(Date.parse(usdc.expires_at) + 5_000));

    // One invoice per page: once bitcoin is found behind, the next pages leave its invoices out.
    expect(await sweepInvoiceClocks(h.tally, { page: 1, pages: 10 })).toEqual({
      ticked: 1,
      waiting: 1,
      failed: 0,
      more: false,
    });
    expect((await clockOf(btc1.id)).status).toBe('awaiting_payment');
    expect((await clockOf(btc2.id)).status).toBe('awaiting_payment');
    expect((await clockOf(usdc.id)).status).toBe('expired');
    // Bitcoin was asked about once, for the first invoice's expiry; the second was never read.
    expect(asked.filter(([n]) => n === 'bitcoin-regtest')).toEqual([
      ['bitcoin-regtest', Date.parse(btc1.expires_at)],
    ]);

    // Waiting is not failing: the job stays healthy.
    expect(await runAll()).toBe(1);
    expect(await clockJob()).toMatchObject({ status: 'pending', attempts: 0, last_error: null });

    bitcoinCaughtUp = true;
    expect((await sweepInvoiceClocks(h.tally)).ticked).toBe(2);
    expect((await clockOf(btc1.id)).status).toBe('expired');
    expect((await clockOf(btc2.id)).status).toBe('expired');
    h.tally.chainHealth = ALWAYS_CAUGHT_UP;
  });

  it('works through a backlog in bounded sweeps that come straight back', async () => {
    const invoices: InvoiceJson[] = [];
    for (let i = 0; i < 5; i++)
      invoices.push(await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 }));
    h.clock.advance(61_000);
    expect(await sweepInvoiceClocks(h.tally, { page: 2, pages: 2 })).toEqual({
      ticked: 4,
      waiting: 0,
      failed: 0,
      more: true,
    });
    const expired = async () =>
      (await Promise.all(invoices.map((i) => clockOf(i.id)))).filter((c) => c.status === 'expired').length;
    expect(await expired()).toBe(4);

    // Through the job: a sweep that stopped at its limit runs again at once, not CLOCK_EVERY_MS on.
    const small = new Worker(h.tally, {
      ...JOB_HANDLERS,
      'invoices.clock': clockSweepJob({ page: 1, pages: 1 }),
    });
    await h.tally.database.db
      .updateTable('jobs')
      .set({ run_at: h.clock.now().toISOString() })
      .where('dedupe_key', '=', 'invoices.clock')
      .execute();
    expect(await runAll(small)).toBe(2); // the fifth invoice, then a sweep that finds nothing
    expect(await expired()).toBe(5);
    expect(toDate((await clockJob()).run_at).getTime()).toBe(h.clock.now().getTime() + CLOCK_EVERY_MS);
  });

  it('an invoice whose tick fails keeps its clock and holds up no other', async () => {
    const broken = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 });
    h.clock.advance(1_000);
    const fine = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 });
    // Loading this invoice now throws (its policy snapshot is not JSON).
    await h.tally.database.db
      .updateTable('invoices')
      .set({ policy: 'not json' })
      .where('id', '=', broken.id)
      .execute();
    h.clock.advance(61_000);
    expect(await sweepInvoiceClocks(h.tally)).toEqual({ ticked: 1, waiting: 0, failed: 1, more: false });
    expect(await clockOf(broken.id)).toEqual({
      fact: 'expiry_due',
      at: Date.parse(broken.expires_at),
      status: 'awaiting_payment',
    });
    expect((await clockOf(fine.id)).status).toBe('expired');
    // Nothing of the failed tick was written.
    const facts = await h.tally.database.db
      .selectFrom('applied_facts')
      .select('fact_id')
      .where('invoice_id', '=', broken.id)
      .where('fact_id', '=', 'expiry_due')
      .execute();
    expect(facts).toEqual([]);
  });

  it('a sweep that fails as a whole is tried again after CLOCK_RETRY_MS; the job never fails', async () => {
    await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 });
    h.tally.chainHealth = {
      caughtUpTo: () => {
        throw new Error('watcher state unreadable');
      },
      statuses: () => [],
    };
    h.clock.advance(61_000);
    for (let i = 0; i < 12; i++) {
      expect(await runAll()).toBe(1);
      const job = await clockJob();
      expect(job).toMatchObject({ status: 'pending', attempts: 0, last_error: null });
      expect(toDate(job.run_at).getTime()).toBe(h.clock.now().getTime() + CLOCK_RETRY_MS);
      h.clock.advance(CLOCK_RETRY_MS);
    }
    h.tally.chainHealth = ALWAYS_CAUGHT_UP;
    expect(await runAll()).toBe(1);
    expect((await sweepInvoiceClocks(h.tally)).ticked).toBe(0); // the job's sweep already did it
    const expired = await h.tally.database.db.selectFrom('invoices').select('status').execute();
    expect(expired.map((r) => r.status)).toEqual(['expired']);
  });

  it("adopts an earlier version's per-invoice job: the clock takes the invoice over", async () => {
    const legacy = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 60 });
    const running = await createInvoice(h.tally, h.merchantId, { ...BTC, expires_in_seconds: 600 });
    // As a gateway from before migration 0015 writes an invoice: no clock, and a job instead.
    await h.tally.database.db
      .updateTable('invoices')
      .set({ clock_fact: null, clock_at: null })
      .where('id', '=', legacy.id)
      .execute();
    for (const invoice of [legacy, running])
      await enqueueJob(h.tally.database.db, {
        kind: 'invoice.expire',
        dedupeKey: `expire:${invoice.id}`,
        payload: { merchantId: h.merchantId, invoiceId: invoice.id },
        runAt: new Date(invoice.expires_at),
        now: h.clock.now(),
      });
    h.clock.advance(61_000);
    await runAll();
    expect(await clockOf(legacy.id)).toMatchObject({ fact: 'expiry_due', at: h.clock.now().getTime() });
    h.clock.advance(CLOCK_EVERY_MS);
    await runAll();
    expect(await clockOf(legacy.id)).toMatchObject({ fact: 'window_closed', status: 'expired' });
    // An invoice whose clock runs keeps it; its job ends without touching it.
    h.clock.advance(600_000);
    await runAll();
    expect(await clockOf(running.id)).toMatchObject({ fact: 'window_closed', status: 'expired' });
    const jobs = await h.tally.database.db
      .selectFrom('jobs')
      .select(['status'])
      .where('kind', '=', 'invoice.expire')
      .execute();
    expect(jobs.map((j) => j.status)).toEqual(['done', 'done']);
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
