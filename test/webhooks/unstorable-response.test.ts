/**
 * A receiver's answer the database cannot store as sent. A NUL in the response body made the
 * attempt log INSERT fail on PostgreSQL; since a batch of attempts was one transaction, every
 * delivery in the batch stayed unrecorded and was sent again each time its lease ran out. Now the
 * excerpt is stored with U+FFFD in place of the NUL, and an attempt that still cannot be written
 * is recorded apart from the others of its batch.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decide, type SendResult } from '../../src/webhooks/attempt-outcome.ts';
import { type AttemptRecord, claimDeliveries, recordAttempts } from '../../src/webhooks/delivery-store.ts';
import { DeliveryWorker } from '../../src/webhooks/delivery-worker.ts';
import { createHttpSender } from '../../src/webhooks/http-sender.ts';
import { sequenceAll } from '../../src/webhooks/outbox-sequencer.ts';
import { AllowList } from '../../src/webhooks/ssrf-guard.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { TestReceiver } from './helpers/receiver.ts';
import { addEndpoint, createInvoices, deliveriesOf } from './helpers/setup.ts';

describe.each(DATABASES)('a response body the database cannot store, on $name', ({ fresh }) => {
  let h: Harness;
  const receivers: TestReceiver[] = [];
  beforeEach(async () => {
    h = await createHarness(await fresh());
    h.clock.set(new Date()); // the receivers verify signatures against the real clock
  });
  afterEach(async () => {
    for (const r of receivers.splice(0)) await r.stop();
    await h?.close();
  });
  const receiver = async () => {
    const r = await new TestReceiver().start();
    r.clock = h.clock;
    receivers.push(r);
    return r;
  };
  const attemptsOf = (endpointId: string) =>
    h.tally.database.db
      .selectFrom('webhook_attempts')
      .select(['outcome', 'response_body'])
      .where('endpoint_id', '=', endpointId)
      .execute();

  it('records the attempt of a receiver answering "ok\\0bad", and the other endpoint of its batch', async () => {
    const nul = await receiver();
    const plain = await receiver();
    // Both answer at the same moment, so the two attempts finish together and are recorded in one
    // batch (the case where one bad attempt used to cost the other its record).
    let answerAt = 0;
    for (const [r, body] of [
      [nul, 'ok\u0000bad'],
      [plain, 'ok'],
    ] as const)
      r.answer = () => {
        answerAt ||= Date.now() + 200;
        return { status: 200, body, delayMs: Math.max(1, answerAt - Date.now()) };
      };
    const nulEndpoint = await addEndpoint(h, nul);
    const plainEndpoint = await addEndpoint(h, plain);
    await createInvoices(h, 1);

    const worker = new DeliveryWorker(h.tally);
    try {
      expect(await worker.runOnce()).toBe(2);
      for (const ep of [nulEndpoint, plainEndpoint]) {
        const [delivery] = await deliveriesOf(h.tally, ep.id);
        expect(delivery).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: 200 });
      }
      expect(await attemptsOf(nulEndpoint.id)).toEqual([
        { outcome: 'succeeded', response_body: 'ok\uFFFDbad' },
      ]);
      expect(await attemptsOf(plainEndpoint.id)).toEqual([{ outcome: 'succeeded', response_body: 'ok' }]);
      // Recorded, so nothing is due again: neither receiver gets the event a second time.
      h.clock.advance(60 * 60_000);
      expect(await worker.runOnce()).toBe(0);
      expect([nul.received.length, plain.received.length]).toEqual([1, 1]);
    } finally {
      await worker.stop();
    }
  });

  it('an attempt that cannot be written leaves the others of its batch recorded', async () => {
    const a = await addEndpoint(h, await receiver());
    const b = await addEndpoint(h, await receiver());
    await createInvoices(h, 1);
    await sequenceAll(h.tally.database, h.clock.now());
    const now = h.clock.now();
    const claimed = await claimDeliveries(h.tally.database, 'w1', now, 60_000, () => 8, 8, 100);
    expect(claimed.map((d) => d.endpointId).sort()).toEqual([a.id, b.id].sort());
    const ok: SendResult = { kind: 'response', status: 200, body: 'ok', retryAfter: null, latencyMs: 3 };
    const record = (delivery: AttemptRecord['delivery']): AttemptRecord => ({
      delivery,
      startedAt: now,
      timestamp: Math.floor(now.getTime() / 1000),
      result: ok,
      decision: decide(ok, 1, now, null),
      now,
    });
    // Any attempt row the database refuses will do; this one names a delivery that is not there
    // (a foreign key both databases enforce), between the two good attempts.
    const [first, second] = claimed as [AttemptRecord['delivery'], AttemptRecord['delivery']];
    const unwritable = record({ ...first, id: 'whd_00000000000000000000000000' });

    const unrecorded = await recordAttempts(h.tally.database, 'w1', [
      record(first),
      unwritable,
      record(second),
    ]);

    expect(unrecorded.map((u) => u.record)).toEqual([unwritable]);
    for (const ep of [a, b]) {
      expect((await deliveriesOf(h.tally, ep.id))[0]).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(await attemptsOf(ep.id)).toEqual([{ outcome: 'succeeded', response_body: 'ok' }]);
    }
  });
});

describe('the response body excerpt', () => {
  const receiver = new TestReceiver();
  beforeAll(async () => {
    await receiver.start();
  });
  afterAll(async () => receiver.stop());

  it('never ends in half a surrogate pair when the limit cuts through an emoji', async () => {
    // 1023 UTF-16 units, then a pair: the 1024-unit excerpt would keep only its high half.
    receiver.answer = () => ({ status: 200, body: `${'a'.repeat(1023)}😀 and more` });
    const sender = createHttpSender({ allow: new AllowList('127.0.0.1'), timeoutMs: 5_000 });
    try {
      const result = await sender.send({ url: receiver.url, headers: {}, body: '{}' });
      expect(result).toMatchObject({ kind: 'response', status: 200 });
      const body = result.kind === 'response' ? result.body : '';
      expect(body).toBe(`${'a'.repeat(1023)}\uFFFD`);
      expect(/\p{Cs}/u.test(body)).toBe(false);
    } finally {
      sender.close();
    }
  });
});
