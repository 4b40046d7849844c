/**
 * The example merchant backend against a real gateway: a paid invoice is fulfilled exactly once
 * however often its events arrive (redelivery with the same webhook-id), in whatever order, and
 * a validly signed but stale "invoice.paid" for an unpaid invoice fulfils nothing, because the
 * backend decides from the gateway's invoice state.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

  it('SCENARIO 22: commits an event, answers too late, gets it again with the same webhook-id: stored and fulfilled once', async () => {
    // A forwarder between the gateway and the backend: the backend stores each event and answers
    // 204 at once, but the forwarder holds back its first answer for each webhook-id past the
    // gateway's timeout, as a slow network or proxy would. The gateway records a timeout and
    // delivers again; the backend has already committed that event.
    h.tally.config.webhookTimeoutMs = 300;
    await worker.stop();
    worker = new DeliveryWorker(h.tally); // a worker reads its timeout when it is made
    const seen = new Set<string>();
    const forwards: Promise<void>[] = [];
    const forwarder = createServer((req, res) => {
      const forward = (async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(([k]) => k.startsWith('webhook-') || k === 'content-type'),
        ) as Record<string, string>;
        const answer = await fetch(hookUrl, { method: 'POST', headers, body: Buffer.concat(chunks) });
        const id = headers['webhook-id'] ?? '';
        if (!seen.has(id)) {
          seen.add(id);
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
        res.writeHead(answer.status);
        res.end();
      })().catch(() => {
        res.destroy();
      });
      forwards.push(forward);
    });
    forwarder.listen(0, '127.0.0.1');
    await once(forwarder, 'listening');
    try {
      const endpoints = await h.request('GET', '/v1/webhook-endpoints');
      const endpointId = endpoints.body.data[0].id as string;
      const moved = await h.request('PATCH', `/v1/webhook-endpoints/${endpointId}`, {
        body: { url: `http://127.0.0.1:${(forwarder.address() as AddressInfo).port}/webhooks` },
      });
      expect(moved.status).toBe(200);
      const id = await paidInvoice();
      const events = await h.request('GET', `/v1/invoices/${id}/events`);
      const eventIds = (events.body.data as Array<{ id: string }>).map((e) => e.id);
      expect(eventIds.length).toBeGreaterThanOrEqual(3);
      await worker.runOnce();
      // Every event reached the backend and was committed, though the gateway saw only timeouts.
      await Promise.all(forwards);
      await backend.idle();
      expect(inboxSize()).toBe(eventIds.length);
      expect(fulfilments()).toEqual([{ invoice_id: id }]);

      // The retries get a generous timeout: they must succeed even on a loaded machine.
      h.tally.config.webhookTimeoutMs = 10_000;
      await worker.stop();
      worker = new DeliveryWorker(h.tally);
      h.clock.advance(60_000); // past the first retry's delay
      await worker.runOnce();
      await backend.idle();
      for (const eventId of eventIds) {
        const deliveries = await h.request('GET', `/v1/events/${eventId}/deliveries`);
        const detail = await h.request('GET', `/v1/webhook-deliveries/${deliveries.body.data[0].id}`);
        expect(
          detail.body.attempt_log.map((a: { outcome: string }) => a.outcome),
          eventId,
        ).toEqual(['timeout', 'succeeded']);
        const copies = backend.db
          .prepare('select count(*) as n from inbox where webhook_id = ?')
          .get(eventId) as {
          n: number;
        };
        expect(copies.n, eventId).toBe(1);
      }
      // Nothing was done twice: one fulfilment here, one reported to the gateway.
      expect(fulfilments()).toEqual([{ invoice_id: id }]);
      const fulfilled = await h.request('GET', `/v1/invoices/${id}/events?type=invoice.fulfilled`);
      expect(fulfilled.body.data).toHaveLength(1);
    } finally {
      forwarder.close();
    }
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
