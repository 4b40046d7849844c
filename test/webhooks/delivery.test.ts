/**
 * Delivery end to end: an invoice event committed by the API reaches a real receiver on
 * 127.0.0.1 with Standard Webhooks headers that the official library verifies; the attempt is
 * logged and readable through the API; the event filter and the test event behave.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryWorker } from '../../src/webhooks/delivery-worker.ts';
import { DATABASES, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { TestReceiver } from './helpers/receiver.ts';

const INVOICE = {
  price: { amount: '10.00', currency: 'USD' },
  payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
};

describe.each(DATABASES)('webhook delivery on $name', ({ fresh }) => {
  let testDb: TestDatabase;
  let h: Harness;
  let receiver: TestReceiver;
  let worker: DeliveryWorker;
  beforeEach(async () => {
    testDb = await fresh();
    h = await createHarness(testDb);
    // The official library checks webhook-timestamp against the real clock (±5 min).
    h.clock.set(new Date());
    receiver = await new TestReceiver().start();
    worker = new DeliveryWorker(h.tally);
  });
  afterEach(async () => {
    await worker?.stop();
    await receiver?.stop();
    await h?.close();
  });

  async function endpoint(body: Record<string, unknown> = {}) {
    const res = await h.request('POST', '/v1/webhook-endpoints', { body: { url: receiver.url, ...body } });
    expect(res.status).toBe(201);
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    receiver.secret = res.body.secret;
    return res.body as { id: string; secret: string };
  }

  it('delivers a committed invoice event, signed, verified by standardwebhooks, and logs the attempt', async () => {
    const ep = await endpoint();
    const inv = await h.request('POST', '/v1/invoices', { body: INVOICE });
    expect(inv.status).toBe(201);
    expect(await worker.runOnce()).toBe(1);

    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    expect(got.verifyError).toBeNull();
    expect(got.verified).toMatchObject({
      type: 'invoice.awaiting_payment',
      data: { invoice: { id: inv.body.id } },
    });
    expect(got.id).toMatch(/^evt_/);
    expect(got.id).toBe((got.verified as { id: string }).id);
    expect(got.timestamp).toBe(Math.floor(h.clock.now().getTime() / 1000));
    expect(got.headers['content-type']).toBe('application/json');

    const deliveries = await h.request('GET', `/v1/events/${got.id}/deliveries`);
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.data).toHaveLength(1);
    const delivery = deliveries.body.data[0];
    expect(delivery).toMatchObject({
      endpoint_id: ep.id,
      status: 'succeeded',
      attempts: 1,
      last_status_code: 200,
    });
    const detail = await h.request('GET', `/v1/webhook-deliveries/${delivery.id}`);
    expect(detail.body.attempt_log).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'succeeded', status_code: 200, response_body: 'ok' }),
    ]);
    expect(detail.body.attempt_log[0].latency_ms).toBeGreaterThanOrEqual(0);
    const byEndpoint = await h.request('GET', `/v1/webhook-endpoints/${ep.id}/deliveries`);
    expect(byEndpoint.body.data.map((d: { id: string }) => d.id)).toEqual([delivery.id]);

    // Nothing more to do: a second pass sends nothing.
    expect(await worker.runOnce()).toBe(0);
    expect(receiver.received).toHaveLength(1);
  });

  it('sends only the subscribed event types, and a test event to the asking endpoint only', async () => {
    const only = await endpoint({ events: ['invoice.cancelled'] });
    const other = await new TestReceiver().start();
    try {
      const all = await h.request('POST', '/v1/webhook-endpoints', { body: { url: other.url } });
      const inv = await h.request('POST', '/v1/invoices', { body: INVOICE });
      await h.request('POST', `/v1/invoices/${inv.body.id}/cancel`);
      await worker.runOnce();
      expect(receiver.received.map((r) => JSON.parse(r.body).type)).toEqual(['invoice.cancelled']);
      expect(other.received.map((r) => JSON.parse(r.body).type).sort()).toEqual([
        'invoice.awaiting_payment',
        'invoice.cancelled',
      ]);

      const test = await h.request('POST', `/v1/webhook-endpoints/${only.id}/test`);
      expect(test.status).toBe(200);
      await worker.runOnce();
      expect(receiver.received.at(-1)?.verified).toMatchObject({
        type: 'webhook.test',
        data: { endpoint_id: only.id },
      });
      expect(other.received).toHaveLength(2);
      expect(all.status).toBe(201);
    } finally {
      await other.stop();
    }
  });
});
