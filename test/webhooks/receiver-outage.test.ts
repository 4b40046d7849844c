/**
 * SCENARIOS 21: the receiver answers 500 for an hour. Deliveries are retried on the schedule kept
 * in the database (5 s, 5 min, 30 min, then 2 h), the delivery process restarts in between, and
 * once the receiver recovers every event is delivered, each verified by `standardwebhooks`.
 * Time is a ManualClock moved from one due attempt to the next.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTally } from '../../src/bootstrap.ts';
import type { Tally } from '../../src/context.ts';
import { toDate } from '../../src/db/values.ts';
import { DeliveryWorker } from '../../src/webhooks/delivery-worker.ts';
import { DATABASES, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { TestReceiver } from './helpers/receiver.ts';
import { addEndpoint, advanceToNextDue, createInvoices, deliveriesOf, nextDue } from './helpers/setup.ts';

const HOUR = 3_600_000;

describe.each(DATABASES)('receiver down for an hour on $name (SCENARIOS 21)', ({ fresh }) => {
  let testDb: TestDatabase;
  let h: Harness;
  let receiver: TestReceiver;
  let restarted: Tally | null = null;
  beforeEach(async () => {
    testDb = await fresh();
    h = await createHarness(testDb);
    receiver = await new TestReceiver().start();
    receiver.clock = h.clock;
  });
  afterEach(async () => {
    await restarted?.database.close();
    await receiver?.stop();
    await h?.close();
  });

  it('retries on schedule across a restart and delivers every event once the receiver is back', async () => {
    const start = new Date();
    h.clock.set(start);
    let down = true;
    receiver.answer = () => (down ? { status: 500, body: 'database unavailable' } : { status: 200 });
    const ep = await addEndpoint(h, receiver);
    await createInvoices(h, 3);

    let worker = new DeliveryWorker(h.tally, { random: () => 0.5 });
    let tally = h.tally;
    let restartedOnce = false;
    for (;;) {
      await worker.runOnce();
      if (!restartedOnce && h.clock.now().getTime() - start.getTime() > 10 * 60_000) {
        // The gateway restarts: nothing in memory survives, the schedule is in the database.
        await worker.stop();
        restarted = await openTally(h.tally.config, {
          clock: h.clock,
          rates: h.tally.rates,
          log: pino({ level: 'silent' }),
        });
        tally = restarted;
        worker = new DeliveryWorker(tally, { random: () => 0.5 });
        restartedOnce = true;
      }
      const next = await nextDue(tally);
      expect(next).not.toBeNull();
      if (next!.getTime() - start.getTime() >= HOUR) break;
      h.clock.set(next!);
    }
    expect(restartedOnce).toBe(true);
    // Down for the whole hour: four attempts per event (0, 5 s, 5 min 5 s, 35 min 5 s), none accepted.
    const during = await deliveriesOf(tally, ep.id);
    expect(during.map((d) => [d.status, d.attempts])).toEqual([
      ['pending', 4],
      ['pending', 4],
      ['pending', 4],
    ]);
    const nextAt = toDate(during[0]!.next_attempt_at).getTime() - start.getTime();
    expect(nextAt).toBe(5_000 + 300_000 + 1_800_000 + 7_200_000);

    h.clock.set(new Date(start.getTime() + HOUR));
    down = false; // back after an hour; the next attempt (2 h after the fourth) finds it up
    await worker.runOnce();
    expect(receiver.received).toHaveLength(12); // nothing sent before its time
    await advanceToNextDue(tally, h.clock);
    await worker.runOnce();
    await worker.stop();

    const after = await deliveriesOf(tally, ep.id);
    expect(after.map((d) => [d.status, d.attempts])).toEqual([
      ['succeeded', 5],
      ['succeeded', 5],
      ['succeeded', 5],
    ]);
    expect(new Set(receiver.received.slice(12).map((r) => r.id)).size).toBe(3);
    expect(receiver.received).toHaveLength(15);
    expect(receiver.received.every((r) => r.verifyError === null)).toBe(true);
    // The attempt log tells the story: four 500s with the body, then the success.
    const log = await tally.database.db
      .selectFrom('webhook_attempts')
      .select(['attempt', 'outcome', 'status_code', 'response_body'])
      .where('delivery_id', '=', after[0]!.id)
      .orderBy('attempt')
      .execute();
    expect(log).toEqual([
      { attempt: 1, outcome: 'http_error', status_code: 500, response_body: 'database unavailable' },
      { attempt: 2, outcome: 'http_error', status_code: 500, response_body: 'database unavailable' },
      { attempt: 3, outcome: 'http_error', status_code: 500, response_body: 'database unavailable' },
      { attempt: 4, outcome: 'http_error', status_code: 500, response_body: 'database unavailable' },
      { attempt: 5, outcome: 'succeeded', status_code: 200, response_body: 'ok' },
    ]);
    // The endpoint's failure run ended with the success.
    const endpoint = await tally.database.db
      .selectFrom('webhook_endpoints')
      .select(['enabled', 'failing_since'])
      .where('id', '=', ep.id)
      .executeTakeFirstOrThrow();
    expect(endpoint).toEqual({ enabled: 1, failing_since: null });
  });
});
