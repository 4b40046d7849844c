/**
 * SCENARIOS 22 (receiver commits but times out → redelivered with the same webhook-id),
 * 23 (410 → endpoint disabled, an event records why) and 24 (private, loopback, link-local or
 * metadata URLs refused at creation unless the operator allows them, and again at delivery).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryWorker } from '../../src/webhooks/delivery-worker.ts';
import { DATABASES, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { TestReceiver } from './helpers/receiver.ts';
import { addEndpoint, advanceToNextDue, createInvoices, deliveriesOf } from './helpers/setup.ts';

describe.each(DATABASES)('webhook scenarios 22-24 on $name', ({ fresh }) => {
  let testDb: TestDatabase;
  let h: Harness;
  let receiver: TestReceiver;
  const workers: DeliveryWorker[] = [];
  const worker = (tally = h.tally) => {
    const w = new DeliveryWorker(tally);
    workers.push(w);
    return w;
  };
  beforeEach(async () => {
    testDb = await fresh();
    h = await createHarness(testDb);
    h.clock.set(new Date());
    receiver = await new TestReceiver().start();
    receiver.clock = h.clock;
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    await receiver?.stop();
    await h?.close();
  });

  it('22: a receiver that commits but answers too late gets the event again with the same webhook-id', async () => {
    h.tally.config.webhookTimeoutMs = 300;
    const committed = new Set<string>();
    let duplicates = 0;
    receiver.answer = (r) => {
      // What the example backend's inbox absorbs: examples/merchant-backend/test/backend.test.ts runs
      // this same commit-then-timeout through the real backend.
      if (committed.has(r.id)) duplicates += 1;
      committed.add(r.id);
      return r.headers['webhook-timestamp'] === String(first)
        ? { status: 200, delayMs: 1000 }
        : { status: 200 };
    };
    const first = Math.floor(h.clock.now().getTime() / 1000);
    const ep = await addEndpoint(h, receiver);
    await createInvoices(h, 1);
    const w = worker();
    await w.runOnce();
    let [d] = await deliveriesOf(h.tally, ep.id);
    expect(d).toMatchObject({
      status: 'pending',
      attempts: 1,
      last_error: expect.stringContaining('300 ms'),
    });
    await advanceToNextDue(h.tally, h.clock);
    await w.runOnce();
    [d] = await deliveriesOf(h.tally, ep.id);
    expect(d).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(receiver.received).toHaveLength(2);
    const [a, b] = receiver.received;
    expect(a!.id).toBe(b!.id);
    expect(a!.body).toBe(b!.body);
    expect(b!.timestamp).toBeGreaterThan(a!.timestamp); // signed anew per attempt
    expect(b!.verifyError).toBeNull();
    expect(duplicates).toBe(1);
    const log = await h.request('GET', `/v1/webhook-deliveries/${d!.id}`);
    expect(log.body.attempt_log.map((x: { outcome: string }) => x.outcome)).toEqual(['timeout', 'succeeded']);
  });

  it('23: a 410 disables the endpoint, cancels what it had pending, and an event says why', async () => {
    receiver.answer = () => ({ status: 410, body: 'gone' });
    const ep = await addEndpoint(h, receiver);
    const watcher = await new TestReceiver().start();
    watcher.clock = h.clock;
    try {
      await addEndpoint(h, watcher, { events: ['webhook_endpoint.disabled'] });
      h.tally.config.webhookEndpointConcurrency = 1; // one attempt at a time: the 410 stops the rest
      await createInvoices(h, 3);
      await worker().runOnce();
      expect(receiver.received).toHaveLength(1);
      const got = await h.request('GET', `/v1/webhook-endpoints/${ep.id}`);
      expect(got.body).toMatchObject({
        enabled: false,
        disabled_reason: 'the endpoint answered 410 Gone',
      });
      expect((await deliveriesOf(h.tally, ep.id)).map((d) => d.status).sort()).toEqual([
        'cancelled',
        'cancelled',
        'failed',
      ]);
      const feed = await h.request('GET', '/v1/events?type=webhook_endpoint.disabled');
      expect(feed.body.data).toHaveLength(1);
      expect(feed.body.data[0].data).toMatchObject({
        endpoint: { id: ep.id, url: receiver.url },
        reason: 'the endpoint answered 410 Gone',
      });
      // Other endpoints hear of it; the disabled one gets nothing more.
      await worker().runOnce();
      expect(watcher.received.map((r) => r.verified?.type)).toEqual(['webhook_endpoint.disabled']);
      await createInvoices(h, 1);
      await worker().runOnce();
      expect(receiver.received).toHaveLength(1);
      // Re-enabling clears the reason; a replay sends what it missed.
      receiver.answer = () => ({ status: 200 });
      const enabled = await h.request('PATCH', `/v1/webhook-endpoints/${ep.id}`, { body: { enabled: true } });
      expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null });
      const replay = await h.request('POST', `/v1/webhook-endpoints/${ep.id}/replay`, {
        body: { since: new Date(h.clock.now().getTime() - 60_000).toISOString() },
      });
      expect(replay.status).toBe(200);
      expect(replay.body.scheduled).toBe(5); // 4 invoices + the disabled event itself
      h.tally.config.webhookEndpointConcurrency = 16;
      await worker().runOnce();
      expect(new Set(receiver.received.slice(1).map((r) => r.verified?.type))).toEqual(
        new Set(['invoice.awaiting_payment', 'webhook_endpoint.disabled']),
      );
    } finally {
      await watcher.stop();
    }
  });

  it.each([
    'http://127.0.0.2:8080/hooks',
    'http://10.0.0.7/hooks',
    'http://192.168.1.20/hooks',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]:8080/hooks',
    'http://[::ffff:127.0.0.2]/hooks', // mapped IPv4 (127.0.0.1 itself is allow-listed here)
    'http://[fd00:ec2::254]/',
    'http://0x7f000002/hooks',
    'http://2130706434/hooks',
  ])('24: refuses %s at creation with a 422 naming url', async (url) => {
    const res = await h.request('POST', '/v1/webhook-endpoints', { body: { url } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.issues[0]).toMatchObject({
      path: 'url',
      message: expect.stringContaining('TALLY_WEBHOOK_ALLOWED_NETWORKS'),
    });
    expect(await h.tally.database.db.selectFrom('webhook_endpoints').selectAll().execute()).toEqual([]);
  });

  it('24: refuses non-http schemes, credentials and hosts that do not resolve', async () => {
    for (const [url, message] of [
      ['ftp://example.com/x', 'http or https'],
      ['http://user:pw@127.0.0.1/x', 'credentials'],
      ['http://no-such-host.invalid/x', 'does not resolve'],
    ] as const) {
      const res = await h.request('POST', '/v1/webhook-endpoints', { body: { url } });
      expect(res.status, url).toBe(422);
      expect(res.body.error.details.issues[0].message).toContain(message);
    }
  });

  it('24: checks again at delivery — an allowed endpoint is refused once the operator withdraws it, and a name now resolving to loopback is refused', async () => {
    const ep = await addEndpoint(h, receiver); // allowed: the harness allow-lists 127.0.0.1
    await createInvoices(h, 1);
    h.tally.config.webhookAllowedNetworks = '';
    await worker().runOnce();
    expect(receiver.received).toEqual([]);
    const [d] = await deliveriesOf(h.tally, ep.id);
    const detail = await h.request('GET', `/v1/webhook-deliveries/${d!.id}`);
    expect(detail.body.attempt_log[0]).toMatchObject({ outcome: 'refused', status_code: null });

    // DNS changed after creation: the stored URL's name now resolves to loopback.
    await h.tally.database.db
      .updateTable('webhook_endpoints')
      .set({ url: receiver.url.replace('127.0.0.1', 'localhost') })
      .where('id', '=', ep.id)
      .execute();
    h.tally.config.webhookAllowedNetworks = '';
    await advanceToNextDue(h.tally, h.clock);
    await worker().runOnce();
    expect(receiver.received).toEqual([]);
    const again = await h.request('GET', `/v1/webhook-deliveries/${d!.id}`);
    expect(again.body.attempt_log[1]).toMatchObject({
      outcome: 'refused',
      error: expect.stringMatching(/localhost: .*(loopback|private)/),
    });
  });
});
