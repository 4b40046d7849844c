/**
 * The durable job worker: jobs survive restarts, failures back off and finally fail, a dead
 * worker's lease runs out and its job is reclaimed, and concurrent workers never run a job twice.
 * The invoice clock, which the worker sweeps on every round, has its own tests (invoice-clock.test.ts).
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMerchant } from '../../src/auth/merchants.ts';
import { openTally } from '../../src/bootstrap.ts';
import { loadConfig } from '../../src/config.ts';
import type { Tally } from '../../src/context.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { type Database, openDatabase } from '../../src/db/connect.ts';
import { toDate } from '../../src/db/values.ts';
import { DEV_REGTEST_TPUB } from '../../src/dev/dev-wallets.ts';
import { createInvoice } from '../../src/invoices/create-invoice.ts';
import { loadInvoice } from '../../src/invoices/invoice-store.ts';
import { JOB_HANDLERS, type JobHandler } from '../../src/jobs/handlers.ts';
import { claimJobs, enqueueJob } from '../../src/jobs/job-store.ts';
import { backoffMs, LEASE_MS, Worker } from '../../src/jobs/worker.ts';
import { addWallet } from '../../src/wallets/wallet-service.ts';
import { DATABASES, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

// The worker's own lease, so this test follows it if it changes.
const MAX_ATTEMPTS = 10;

const BTC_INVOICE = {
  price: { amount: '0.001', currency: 'BTC' },
  payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
};

async function jobByKey(database: Database, dedupeKey: string) {
  return database.db
    .selectFrom('jobs')
    .selectAll()
    .where('dedupe_key', '=', dedupeKey)
    .executeTakeFirstOrThrow();
}

describe.each(DATABASES)('job worker on $name', ({ name, fresh }) => {
  let testDb: TestDatabase;
  let h: Harness;
  beforeEach(async () => {
    testDb = await fresh();
    h = await createHarness(testDb);
    await h.worker.runDue(); // the wallets' pool top-ups
  });
  afterEach(async () => h?.close());

  it('jobs survive a restart: enqueued before close, executed after reopening', async () => {
    // A second gateway life on its own database: open, enqueue, close, reopen, run.
    const own = await fresh();
    const clock = new ManualClock(new Date('2026-11-21T12:00:00Z'));
    const config = loadConfig({}, { databaseUrl: own.url, addressPoolTarget: 4, logLevel: 'silent' });
    const open = () => openTally(config, { clock, log: pino({ level: 'silent' }) });
    let tally: Tally = await open();
    try {
      const merchant = await createMerchant(tally.database.db, 'Restart', clock.now());
      await addWallet(tally, merchant.id, { scope: 'bitcoin-regtest', xpub: DEV_REGTEST_TPUB });
      const invoice = await createInvoice(tally, merchant.id, { ...BTC_INVOICE, expires_in_seconds: 60 });
      await enqueueJob(tally.database.db, {
        kind: 'test.echo',
        dedupeKey: 'echo:restart',
        payload: { hello: 'after restart' },
        runAt: clock.now(),
        now: clock.now(),
      });
      await tally.database.close();

      tally = await open();
      clock.advance(61_000);
      const seen: unknown[] = [];
      const worker = new Worker(tally, {
        ...JOB_HANDLERS,
        'test.echo': async (_tally, payload) => {
          seen.push(payload);
          return { done: true };
        },
      });
      expect(await worker.runDue()).toBe(3); // top-up and echo, then the invoice's clock
      expect(seen).toEqual([{ hello: 'after restart' }]);
      const jobs = await tally.database.db
        .selectFrom('jobs')
        .select(['kind', 'status', 'attempts'])
        .execute();
      expect(jobs).toHaveLength(2);
      const byKind = new Map(jobs.map((j) => [j.kind, j]));
      expect(byKind.get('test.echo')).toMatchObject({ status: 'done', attempts: 1 });
      expect(byKind.get('wallet.top_up')).toMatchObject({ status: 'done', attempts: 1 });
      const stored = await loadInvoice(tally.database.db, tally.database.dialect, merchant.id, invoice.id);
      expect(stored?.status).toBe('expired');
      const next = await tally.database.db
        .selectFrom('invoices')
        .select(['clock_fact'])
        .where('id', '=', invoice.id)
        .executeTakeFirstOrThrow();
      expect(next.clock_fact).toBe('window_closed');
      const pool = await tally.database.db
        .selectFrom('wallet_addresses')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('option_id', 'is', null)
        .executeTakeFirstOrThrow();
      expect(Number(pool.n)).toBe(4);
    } finally {
      await tally.database.close();
      await own.drop();
    }
  });

  it('retries a throwing handler with exponential backoff and fails it after max attempts', async () => {
    let calls = 0;
    const worker = new Worker(h.tally, {
      ...JOB_HANDLERS,
      'test.fail': async () => {
        calls += 1;
        throw new Error(`boom ${calls}`);
      },
    });
    await enqueueJob(h.tally.database.db, {
      kind: 'test.fail',
      dedupeKey: 'fail:1',
      payload: {},
      runAt: h.clock.now(),
      now: h.clock.now(),
    });
    let previousRunAt = h.clock.now().getTime();
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      expect(await worker.runDue()).toBe(1);
      expect(calls).toBe(attempt);
      const job = await jobByKey(h.tally.database, 'fail:1');
      expect(job.attempts).toBe(attempt);
      expect(job.last_error).toBe(`boom ${attempt}`);
      expect(job.locked_by).toBeNull();
      if (attempt < MAX_ATTEMPTS) {
        expect(job.status).toBe('pending');
        const runAt = toDate(job.run_at).getTime();
        expect(runAt).toBe(h.clock.now().getTime() + backoffMs(attempt));
        expect(runAt).toBeGreaterThan(previousRunAt);
        previousRunAt = runAt;
        // Not before its run_at…
        h.clock.advance(backoffMs(attempt) - 1);
        expect(await worker.runDue()).toBe(0);
        expect(calls).toBe(attempt);
        // …and due at it.
        h.clock.advance(1);
      } else {
        expect(job.status).toBe('failed');
      }
    }
    expect([1, 2, 3, 4].map(backoffMs)).toEqual([1000, 2000, 4000, 8000]);
    h.clock.advance(24 * 3600_000);
    expect(await worker.runDue()).toBe(0);
    expect(calls).toBe(MAX_ATTEMPTS);
  });

  it('rescheduling (retryAt) does not use up the retry budget for real failures', async () => {
    let calls = 0;
    const worker = new Worker(h.tally, {
      ...JOB_HANDLERS,
      // Waits 15 times (e.g. for a chain watcher), then fails once transiently, then succeeds.
      'test.patient': async (tally) => {
        calls += 1;
        if (calls <= 15) return { retryAt: new Date(tally.clock.now().getTime() + 30_000) };
        if (calls === 16) throw new Error('transient');
        return { done: true };
      },
    });
    await enqueueJob(h.tally.database.db, {
      kind: 'test.patient',
      dedupeKey: 'patient:1',
      payload: {},
      runAt: h.clock.now(),
      now: h.clock.now(),
    });
    for (let i = 0; i < 15; i++) {
      expect(await worker.runDue()).toBe(1);
      expect((await jobByKey(h.tally.database, 'patient:1')).status).toBe('pending');
      h.clock.advance(30_000);
    }
    expect(await worker.runDue()).toBe(1); // the transient failure
    const afterFailure = await jobByKey(h.tally.database, 'patient:1');
    expect(afterFailure.status).toBe('pending');
    expect(afterFailure.last_error).toBe('transient');
    // A first failure backs off by the first step, not as if it were the 16th.
    expect(toDate(afterFailure.run_at).getTime()).toBe(h.clock.now().getTime() + backoffMs(1));
    h.clock.advance(backoffMs(1));
    expect(await worker.runDue()).toBe(1);
    expect(await jobByKey(h.tally.database, 'patient:1')).toMatchObject({ status: 'done' });
    expect(calls).toBe(17);
  });

  it("reclaims a crashed worker's job once its lease runs out, and ignores the dead worker's late result", async () => {
    const runs: string[] = [];
    let releaseStuck: () => void = () => {};
    const stuck = new Promise<void>((resolve) => {
      releaseStuck = resolve;
    });
    const handlers = (label: string): Record<string, JobHandler> => ({
      ...JOB_HANDLERS,
      'test.lease': async () => {
        runs.push(label);
        if (label === 'crashed') await stuck; // never finishes while the test needs it to
        return { done: true };
      },
    });
    const crashed = new Worker(h.tally, handlers('crashed'));
    const healthy = new Worker(h.tally, handlers('healthy'));
    await enqueueJob(h.tally.database.db, {
      kind: 'test.lease',
      dedupeKey: 'lease:1',
      payload: {},
      runAt: h.clock.now(),
      now: h.clock.now(),
    });
    const crashedRun = crashed.runDue();
    await expect.poll(() => runs.length).toBe(1);
    const held = await jobByKey(h.tally.database, 'lease:1');
    expect(held).toMatchObject({ status: 'running', locked_by: crashed.id, attempts: 1 });
    expect(toDate(held.locked_until ?? '').getTime()).toBe(h.clock.now().getTime() + LEASE_MS);

    // While the lease holds, nobody else takes the job.
    h.clock.advance(LEASE_MS - 1);
    expect(await healthy.runDue()).toBe(0);
    h.clock.advance(2);
    expect(await healthy.runDue()).toBe(1);
    expect(runs).toEqual(['crashed', 'healthy']);
    const reclaimed = await jobByKey(h.tally.database, 'lease:1');
    expect(reclaimed).toMatchObject({ status: 'done', attempts: 2, locked_by: null });

    // The dead worker wakes up and reports: its lease is gone, so nothing changes.
    releaseStuck();
    await crashedRun;
    expect(await jobByKey(h.tally.database, 'lease:1')).toEqual(reclaimed);
    h.clock.advance(LEASE_MS * 10);
    expect(await healthy.runDue()).toBe(0);
    expect(runs).toEqual(['crashed', 'healthy']);
  });

  it('a claim by a worker that died before running anything is reclaimed after the lease', async () => {
    await enqueueJob(h.tally.database.db, {
      kind: 'test.orphan',
      dedupeKey: 'orphan:1',
      payload: { n: 7 },
      runAt: h.clock.now(),
      now: h.clock.now(),
    });
    const claimed = await claimJobs(
      h.tally.database.db,
      h.tally.database.dialect,
      'ghost',
      h.clock.now(),
      LEASE_MS,
      10,
    );
    expect(claimed.map((j) => j.dedupe_key)).toContain('orphan:1');
    const payloads: unknown[] = [];
    const worker = new Worker(h.tally, {
      ...JOB_HANDLERS,
      'test.orphan': async (_t, payload) => {
        payloads.push(payload);
        return { done: true };
      },
    });
    expect(await worker.runDue()).toBe(0);
    h.clock.advance(LEASE_MS + 1);
    expect(await worker.runDue()).toBe(1);
    expect(payloads).toEqual([{ n: 7 }]);
    expect(await jobByKey(h.tally.database, 'orphan:1')).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('concurrent workers never run the same job twice', async () => {
    // PostgreSQL: a second, independent connection pool, as another gateway process would have.
    // SQLite: a second worker on the same database (one process owns the file).
    const second = name === 'postgres' ? openDatabase({ url: testDb.url }) : h.tally.database;
    try {
      const runs = new Map<number, string[]>();
      const handlers = (label: string): Record<string, JobHandler> => ({
        ...JOB_HANDLERS,
        'test.count': async (_t, payload) => {
          const n = Number(payload.n);
          runs.set(n, [...(runs.get(n) ?? []), label]);
          await new Promise((resolve) => setImmediate(resolve));
          return { done: true };
        },
      });
      const JOBS = 300;
      await h.tally.database.write(async (trx) => {
        for (let n = 0; n < JOBS; n++) {
          await enqueueJob(trx, {
            kind: 'test.count',
            dedupeKey: `count:${n}`,
            payload: { n },
            runAt: h.clock.now(),
            now: h.clock.now(),
          });
        }
      });
      const workers = [
        new Worker(h.tally, handlers('a1')),
        new Worker(h.tally, handlers('a2')),
        new Worker({ ...h.tally, database: second }, handlers('b1')),
        new Worker({ ...h.tally, database: second }, handlers('b2')),
      ];
      for (let round = 0; round < 100; round++) {
        const ran = await Promise.all(workers.map((w) => w.runDue(7)));
        if (ran.every((n) => n === 0)) break;
      }
      expect(runs.size).toBe(JOBS);
      const doubles = [...runs.entries()].filter(([, by]) => by.length !== 1);
      expect(doubles).toEqual([]);
      const labels = new Set([...runs.values()].flat());
      expect(labels.size).toBeGreaterThan(1);
      if (name === 'postgres') expect([...labels].some((l) => l.startsWith('b'))).toBe(true);
      const statuses = await h.tally.database.db
        .selectFrom('jobs')
        .select(['status', 'attempts'])
        .where('kind', '=', 'test.count')
        .execute();
      expect(statuses).toHaveLength(JOBS);
      expect(statuses.every((s) => s.status === 'done' && s.attempts === 1)).toBe(true);
    } finally {
      if (second !== h.tally.database) await second.close();
    }
  });
});
