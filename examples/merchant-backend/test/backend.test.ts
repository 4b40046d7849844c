/**
 * The example merchant backend against a real gateway: a paid invoice is fulfilled exactly once
 * however often its events arrive (redelivery with the same webhook-id), in whatever order, and
 * a validly signed but stale "invoice.paid" for an unpaid invoice fulfils nothing, because the
 * backend decides from the gateway's invoice state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TallyClient } from '../../../packages/sdk/src/index.ts';
import { newId } from '../../../src/core/ids.ts';
import { applyFact } from '../../../src/invoices/apply-fact.ts';
import { DeliveryWorker } from '../../../src/webhooks/delivery-worker.ts';
import { webhookHeaders } from '../../../src/webhooks/signature.ts';
import { freshSqlite } from '../../../test/helpers/databases.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { MerchantBackend } from '../src/backend.ts';

describe('example merchant backend', () => {
  let h: Harness;
  let backend: MerchantBackend;
  let worker: DeliveryWorker;
  let client: TallyClient;
  let hookUrl: string;
  let secret: string;
  const dir = mkdtempSync(join(tmpdir(), 'tally-example-'));

  beforeEach(async () => {
    h = await createHarness(await freshSqlite());
    h.clock.set(new Date());
    const baseUrl = await h.app.server.listen({ host: '127.0.0.1', port: 0 });
    client = new TallyClient({ baseUrl, apiKey: h.token });
    backend = new MerchantBackend({
      client,
      webhookSecret: 'whsec_placeholder',
      dbPath: join(dir, `${newId('evt')}.db`),
    });
    hookUrl = await backend.listen();
    const endpoint = await client.createWebhookEndpoint({ url: hookUrl });
    secret = endpoint.secret ?? '';
    backend.setWebhookSecret(secret);
    worker = new DeliveryWorker(h.tally);
  });
  afterEach(async () => {
    await worker.stop();
    await backend.close();
    await h.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function paidInvoice(): Promise<string> {
    const inv = await client.createInvoice({
      price: { amount: '10.00', currency: 'USD' },
      payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
    });
    const option = inv.payment_options[0]!;
    await applyFact(h.tally, h.merchantId, inv.id, {
      kind: 'payment_seen',
      id: `seen:${inv.id}`,
      payment: {
        paymentId: newId('pay'),
        optionId: option.id,
        txid: 'ef'.repeat(32),
        outputIndex: 0,
        amount: BigInt(option.amount_due_base_units),
        rbf: false,
        confirmations: 6,
        blockHash: '12'.repeat(32),
        blockHeight: 200,
      },
    });
    expect((await client.getInvoice(inv.id)).status).toBe('paid');
    return inv.id;
  }

  const fulfilments = () =>
    backend.db.prepare('select invoice_id from fulfilments').all() as Array<{ invoice_id: string }>;
  const inboxSize = () => (backend.db.prepare('select count(*) as n from inbox').get() as { n: number }).n;

  it('fulfils a paid invoice once, and absorbs a redelivery of the same webhook-id', async () => {
    const id = await paidInvoice();
    await worker.runOnce();
    await backend.idle();
    expect(fulfilments()).toEqual([{ invoice_id: id }]);
    const stored = inboxSize();
    expect(stored).toBeGreaterThanOrEqual(3); // awaiting_payment, payment.detected, invoice.paid …

    // The gateway sends invoice.paid again (a receiver timeout, or an operator's redeliver).
    const events = await h.request('GET', `/v1/invoices/${id}/events?type=invoice.paid`);
    const deliveries = await h.request('GET', `/v1/events/${events.body.data[0].id}/deliveries`);
    const again = await h.request('POST', `/v1/webhook-deliveries/${deliveries.body.data[0].id}/redeliver`);
    expect(again.status).toBe(200);
    await worker.runOnce();
    await backend.idle();
    const detail = await h.request('GET', `/v1/webhook-deliveries/${deliveries.body.data[0].id}`);
    expect(detail.body.attempt_log.map((a: { status_code: number }) => a.status_code)).toEqual([204, 204]);
    const paidId = events.body.data[0].id as string;
    const copies = backend.db.prepare('select count(*) as n from inbox where webhook_id = ?').get(paidId) as {
      n: number;
    };
    expect(copies.n).toBe(1); // the duplicate was not stored twice
    // The only new row is the invoice.fulfilled event our own fulfilment caused.
    expect(inboxSize()).toBe(stored + 1);
    expect(fulfilments()).toEqual([{ invoice_id: id }]);
    // Fulfilment was reported to the gateway exactly once.
    const fulfilled = await h.request('GET', `/v1/invoices/${id}/events?type=invoice.fulfilled`);
    expect(fulfilled.body.data).toHaveLength(1);
  });

  it('is indifferent to order: the stale awaiting_payment arriving last changes nothing', async () => {
    const id = await paidInvoice();
    const events = await h.request('GET', `/v1/invoices/${id}/events`);
    const reversed = [...events.body.data].reverse();
    expect(reversed[0].type).not.toBe('invoice.awaiting_payment');
    for (const event of reversed) {
      const body = JSON.stringify(event);
      const res = await fetch(hookUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...webhookHeaders([secret], event.id, Math.floor(Date.now() / 1000), body),
        },
        body,
      });
      expect(res.status).toBe(204);
    }
    await backend.idle();
    expect(fulfilments()).toEqual([{ invoice_id: id }]);
    expect((await client.getInvoice(id)).fulfilment).not.toBeNull();
  });

  it('does not fulfil on a stale "paid" event when the gateway says otherwise, and rejects a bad signature', async () => {
    const inv = await client.createInvoice({
      price: { amount: '10.00', currency: 'USD' },
      payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
    });
    const stale = JSON.stringify({
      id: newId('evt'),
      type: 'invoice.paid',
      created: new Date().toISOString(),
      data: { invoice: { ...inv, status: 'paid' } },
    });
    const post = (headers: Record<string, string>) =>
      fetch(hookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: stale,
      });
    const id = JSON.parse(stale).id as string;
    const forged = await post(
      webhookHeaders(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], id, Math.floor(Date.now() / 1000), stale),
    );
    expect(forged.status).toBe(400);
    expect(inboxSize()).toBe(0);
    const signed = await post(webhookHeaders([secret], id, Math.floor(Date.now() / 1000), stale));
    expect(signed.status).toBe(204);
    await backend.idle();
    expect(inboxSize()).toBe(1);
    expect(fulfilments()).toEqual([]);
  });
});
