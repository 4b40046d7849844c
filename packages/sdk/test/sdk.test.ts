/**
 * The SDK against a real gateway over HTTP (SQLite): the operation table matches /openapi.json
 * both ways, typed calls work, errors arrive typed by code with the fields named, and
 * verifyWebhook accepts a real delivery and refuses tampering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryWorker } from '../../../src/webhooks/delivery-worker.ts';
import { webhookHeaders } from '../../../src/webhooks/signature.ts';
import { freshSqlite } from '../../../test/helpers/databases.ts';
import { createHarness, type Harness } from '../../../test/helpers/harness.ts';
import { TestReceiver } from '../../../test/webhooks/helpers/receiver.ts';
import {
  OPERATIONS,
  TallyApiError,
  TallyClient,
  verifyWebhook,
  WebhookVerificationError,
} from '../src/index.ts';

describe('@tally/sdk against a running gateway', () => {
  let h: Harness;
  let client: TallyClient;
  let baseUrl: string;
  beforeAll(async () => {
    h = await createHarness(await freshSqlite());
    h.clock.set(new Date());
    baseUrl = await h.app.server.listen({ host: '127.0.0.1', port: 0 });
    client = new TallyClient({ baseUrl, apiKey: h.token });
  });
  afterAll(async () => h?.close());

  it('covers exactly the operations of /openapi.json (regenerate with scripts/generate-sdk-operations.ts)', async () => {
    const spec = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    const fromSpec = Object.entries(spec.paths)
      .flatMap(([path, ops]) =>
        Object.entries(ops).map(([m, op]) => `${op.operationId} ${m.toUpperCase()} ${path}`),
      )
      .sort();
    const fromSdk = Object.entries(OPERATIONS)
      .map(([id, op]) => `${id} ${op.method} ${op.path}`)
      .sort();
    expect(fromSdk).toEqual(fromSpec);
  });

  it('creates and reads an invoice, amounts as decimal strings, idempotently', async () => {
    const body = {
      price: { amount: '25.00', currency: 'USD' },
      payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      merchant_order_id: 'sdk-1',
    };
    const created = await client.createInvoice(body, 'sdk-order-1');
    expect(created.status).toBe('awaiting_payment');
    expect(created.payment_options[0]?.amount_due).toMatch(/^0\.\d{8}$/);
    const again = await client.createInvoice(body, 'sdk-order-1');
    expect(again.id).toBe(created.id);
    expect((await client.getInvoice(created.id)).merchant_order_id).toBe('sdk-1');
    const feed = await client.listEvents({ invoice_id: created.id });
    expect(feed.data.map((e) => e.type)).toEqual(['invoice.awaiting_payment']);
  });

  it('throws TallyApiError typed by code, naming the field on 422', async () => {
    const bad = await client
      .createInvoice({ price: { amount: '1e5', currency: 'USD' } })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(TallyApiError);
    expect((bad as TallyApiError).code).toBe('validation_failed');
    expect((bad as TallyApiError).status).toBe(422);
    expect((bad as TallyApiError).issues[0]?.path).toMatch(/price.amount/);
    const missing = await client.getInvoice(`inv_${'0'.repeat(26)}`).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'not_found', status: 404 });
    const refused = await client
      .createWebhookEndpoint({ url: 'http://169.254.169.254/latest/meta-data' })
      .catch((e: unknown) => e);
    expect((refused as TallyApiError).issues[0]?.path).toBe('url');
  });

  it('verifies a real delivery, and refuses a changed body or a foreign secret', async () => {
    const receiver = await new TestReceiver().start();
    try {
      const endpoint = await client.createWebhookEndpoint({ url: receiver.url });
      const secret = endpoint.secret ?? '';
      await client.createInvoice({
        price: { amount: '3.00', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      });
      const worker = new DeliveryWorker(h.tally);
      await worker.runOnce();
      await worker.stop();
      const got = receiver.received.at(-1);
      expect(got).toBeDefined();
      const event = verifyWebhook(secret, got!.body, got!.headers);
      expect(event.type).toBe('invoice.awaiting_payment');
      expect(event.data.invoice?.status).toBe('awaiting_payment');
      expect(() => verifyWebhook(secret, got!.body.replace('awaiting', 'paid_or'), got!.headers)).toThrow(
        WebhookVerificationError,
      );
      expect(() => verifyWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', got!.body, got!.headers)).toThrow(
        WebhookVerificationError,
      );
      // A fetch Headers object works too.
      const headers = new Headers(
        webhookHeaders([secret], 'evt_x', Math.floor(Date.now() / 1000), '{"id":"evt_x"}'),
      );
      expect(verifyWebhook(secret, '{"id":"evt_x"}', headers).id).toBe('evt_x');
    } finally {
      await receiver.stop();
    }
  });
});
