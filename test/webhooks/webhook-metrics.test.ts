/**
 * /metrics reports webhook delivery health: attempts by outcome, the pending backlog and the age
 * of its oldest row, disabled endpoints — and each moves as deliveries fail, succeed and disable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryWorker } from '../../src/webhooks/delivery-worker.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { TestReceiver } from './helpers/receiver.ts';
import { addEndpoint, advanceToNextDue, createInvoices } from './helpers/setup.ts';

describe.each(DATABASES)('webhook metrics on $name', ({ fresh }) => {
  let h: Harness;
  let receiver: TestReceiver;
  let worker: DeliveryWorker;
  beforeAll(async () => {
    h = await createHarness(await fresh());
    receiver = await new TestReceiver().start();
    worker = new DeliveryWorker(h.tally);
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.stop();
    await h?.close();
  });

  /** The scraped value of one series (labels written as in the exposition, e.g. `{outcome="timeout"}`). */
  async function metric(name: string, labels = ''): Promise<number | null> {
    const res = await h.request('GET', '/metrics', { token: null });
    expect(res.status).toBe(200);
    const line = String(res.body)
      .split('\n')
      .find((l) => l.startsWith(`${name}${labels} `));
    return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  it('starts empty', async () => {
    expect(await metric('tally_webhook_deliveries_pending')).toBe(0);
    expect(await metric('tally_webhook_oldest_pending_delivery_age_seconds')).toBe(0);
    expect(await metric('tally_webhook_endpoints_disabled')).toBe(0);
    expect(await metric('tally_webhook_delivery_attempts_total', '{outcome="succeeded"}')).toBeNull();
  });

  it('counts failed attempts and the backlog they leave, aging with the clock', async () => {
    receiver.answer = () => ({ status: 500, body: 'down' });
    await addEndpoint(h, receiver);
    await createInvoices(h, 2);
    await worker.runOnce();
    expect(await metric('tally_webhook_delivery_attempts_total', '{outcome="http_error"}')).toBe(2);
    expect(await metric('tally_webhook_deliveries_pending')).toBe(2);
    h.clock.advance(90_000);
    expect(await metric('tally_webhook_oldest_pending_delivery_age_seconds')).toBe(90);
  });

  it('counts successes and drains the backlog', async () => {
    receiver.answer = () => ({ status: 204 });
    await advanceToNextDue(h.tally, h.clock);
    await worker.runOnce();
    expect(await metric('tally_webhook_delivery_attempts_total', '{outcome="succeeded"}')).toBe(2);
    expect(await metric('tally_webhook_delivery_attempts_total', '{outcome="http_error"}')).toBe(2);
    expect(await metric('tally_webhook_deliveries_pending')).toBe(0);
    expect(await metric('tally_webhook_oldest_pending_delivery_age_seconds')).toBe(0);
  });

  it('counts an endpoint disabled by 410 Gone', async () => {
    receiver.answer = () => ({ status: 410 });
    const gone = await addEndpoint(h, receiver);
    expect((await h.request('POST', `/v1/webhook-endpoints/${gone.id}/test`)).status).toBe(200);
    await worker.runOnce();
    expect(await metric('tally_webhook_endpoints_disabled')).toBe(1);
  });
});
