/**
 * One slow endpoint never delays another: its deliveries hold at most its per-endpoint share of
 * slots, so a fast endpoint's backlog drains while the slow one's requests are still hanging.
 * And on PostgreSQL two gateway processes (two pools, two workers) share the deliveries without
 * sending any attempt twice.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTally } from '../../src/bootstrap.ts';
import type { Tally } from '../../src/context.ts';
import { eventRow } from '../../src/invoices/effect-rows.ts';
import { DeliveryWorker } from '../../src/webhooks/delivery-worker.ts';
import { DATABASES, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { TestReceiver } from './helpers/receiver.ts';
import { addEndpoint } from './helpers/setup.ts';

async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function burst(h: Harness, n: number): Promise<void> {
  const rows = Array.from({ length: n }, (_, i) =>
    eventRow(h.merchantId, null, 'webhook.burst', 0, { n: i }, h.clock.now()),
  );
  await h.tally.database.write((trx) => trx.insertInto('events').values(rows).execute());
}

describe.each(DATABASES)('endpoint isolation on $name', ({ name, fresh }) => {
  let testDb: TestDatabase;
  let h: Harness;
  const receivers: TestReceiver[] = [];
  const workers: DeliveryWorker[] = [];
  const others: Tally[] = [];
  beforeEach(async () => {
    testDb = await fresh();
    h = await createHarness(testDb);
    h.clock.set(new Date());
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    for (const r of receivers.splice(0)) await r.stop();
    for (const t of others.splice(0)) await t.database.close();
    await h?.close();
  });
  const receiver = async () => {
    const r = await new TestReceiver().start();
    r.clock = h.clock;
    receivers.push(r);
    return r;
  };

  it('a fast endpoint drains 60 events while a slow one still hangs on its first requests', async () => {
    h.tally.config.webhookEndpointConcurrency = 8;
    const slow = await receiver();
    slow.answer = () => ({ status: 200, delayMs: 1500 });
    const fast = await receiver();
    await addEndpoint(h, slow);
    await addEndpoint(h, fast);
    await burst(h, 60);
    const w = new DeliveryWorker(h.tally);
    workers.push(w);
    const started = Date.now();
    w.start();
    await until(() => fast.received.length >= 60, 5000);
    const fastDone = Date.now() - started;
    // The slow endpoint has had only its 8 slots, and none of them has answered yet.
    expect(slow.received.length).toBeLessThanOrEqual(8);
    expect(fastDone).toBeLessThan(1500);
    expect(new Set(fast.received.map((r) => r.id)).size).toBe(60);
    expect(fast.received.every((r) => r.verifyError === null)).toBe(true);
  });

  // Several gateway processes share one database only on PostgreSQL (SQLite is one process per
  // file), so this case is defined there only rather than skipped on SQLite.
  if (name === 'postgres')
    it('two gateway processes deliver a burst of 300 events, each attempt exactly once', async () => {
      const r = await receiver();
      await addEndpoint(h, r);
      const second = await openTally(h.tally.config, {
        clock: h.clock,
        rates: h.tally.rates,
        log: pino({ level: 'silent' }),
      });
      others.push(second);
      const a = new DeliveryWorker(h.tally);
      const b = new DeliveryWorker(second);
      workers.push(a, b);
      a.start();
      b.start();
      await burst(h, 300);
      await until(() => r.received.length >= 300, 15_000);
      await new Promise((resolve) => setTimeout(resolve, 300)); // room for a duplicate to show up
      expect(r.received).toHaveLength(300);
      expect(new Set(r.ids()).size).toBe(300);
      const attempts = await h.tally.database.db
        .selectFrom('webhook_attempts')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(attempts.n)).toBe(300);
      const positions = await h.tally.database.db
        .selectFrom('events')
        .select('position')
        .where('type', '=', 'webhook.burst')
        .orderBy('position')
        .execute();
      // However the two sequencers interleaved, the positions are one gap-free run.
      const ps = positions.map((p) => Number(p.position));
      expect(ps).toEqual(Array.from({ length: 300 }, (_, i) => ps[0]! + i));
    });
});
