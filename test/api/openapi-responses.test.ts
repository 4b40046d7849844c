import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiPath } from '../../src/api/openapi.ts';
import type { RouteDef } from '../../src/api/route.ts';
import { ALL_ROUTES } from '../../src/api/routes/index.ts';
import { DeliveryWorker } from '../../src/webhooks/delivery-worker.ts';
import { freshSqlite } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { type MerchantFixture, merchantWithEverything, preview, validBodyFor } from './route-fixtures.ts';

/**
 * The success schemas in /openapi.json are documentation only (Fastify never serializes with
 * them), so nothing but this suite keeps them true: every route is called with valid input and its
 * real 2xx body is validated against the published schema, with every documented object closed
 * (`additionalProperties: false` unless the schema says otherwise), so a field added to a response
 * without documenting it fails here, and so does a documented field the response lacks.
 */

/** Routes whose success response is not documented yet. Empty: every route is. */
const UNDOCUMENTED_RESPONSES: string[] = [];

/**
 * Documented, but no 2xx without a chain: an EVM native-coin refund's hash (needs an EVM-paid,
 * approved refund) and the devnet payment (dev mode only; 403 here). Their bodies are the Refund
 * component (checked through the other refund routes) and DevPayment (src/dev/pay-invoice.ts).
 */
const NOT_EXERCISED = ['reportRefundTransaction', 'devPayInvoice'];

type Json = Record<string, unknown>;
type Spec = { paths: Record<string, Record<string, Json>>; components: { schemas: Record<string, unknown> } };
type Answer = { status: number; body: unknown; contentType: string };

/** Closes every object schema that does not say otherwise (recursively; returns a copy). */
function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Json = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, closeObjects(v)]));
  if (out.type === 'object' && out.properties && !('additionalProperties' in out))
    out.additionalProperties = false;
  return out;
}

function successContent(spec: Spec, route: RouteDef): Record<string, { schema: unknown }> {
  const op = spec.paths[openApiPath(route.url)]?.[route.method.toLowerCase()] as {
    responses: Record<string, { content: Record<string, { schema: unknown }> }>;
  };
  const ok = op.responses[String(route.successStatus ?? 200)];
  if (!ok) throw new Error(`${route.operationId}: no success response in the spec`);
  return ok.content;
}

/** Every `$ref` anywhere in a value. */
function refsIn(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.add(v);
      else refsIn(v, out);
    }
  return out;
}

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

describe('OpenAPI success responses match what the routes answer', () => {
  let h: Harness;
  let spec: Spec;
  let fx: MerchantFixture;
  let validatorOf: (route: RouteDef, mediaType?: string) => ValidateFunction;
  const answers = new Map<string, Answer>();

  beforeAll(async () => {
    h = await createHarness(await freshSqlite());
    spec = (await h.request('GET', '/openapi.json', { token: null })).body;
    fx = await merchantWithEverything(h, { merchantId: h.merchantId, token: h.token }, 'r');

    // Same validator setup as the server's (ajv + ajv-formats), plus the closing of objects. The
    // components ride along in each compiled schema so its `#/components/schemas/…` refs resolve.
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const components = closeObjects(spec.components.schemas);
    const compiled = new Map<string, ValidateFunction>();
    validatorOf = (route, mediaType = 'application/json') => {
      const key = `${route.operationId} ${mediaType}`;
      let v = compiled.get(key);
      if (!v) {
        const schema = successContent(spec, route)[mediaType]?.schema;
        if (!schema) throw new Error(`${key}: not documented`);
        v = ajv.compile({ ...(closeObjects(schema) as Json), components: { schemas: components } });
        compiled.set(key, v);
      }
      return v;
    };

    // One failed attempt on the fixture's test delivery, so a delivery's attempt_log is not empty.
    const worker = new DeliveryWorker(h.tally, {
      sender: async () => ({ kind: 'response', status: 500, body: 'down', retryAfter: null, latencyMs: 3 }),
    });
    await worker.runOnce();
    await worker.stop();

    const approver = await h.keyWithScopes(['admin']);
    const extraInvoice = async () =>
      (await h.request('POST', '/v1/invoices', { body: { price: { amount: '3.00', currency: 'USD' } } })).body
        .id as string;
    const body = (operationId: string) => {
      const route = ALL_ROUTES.find((r) => r.operationId === operationId);
      if (!route) throw new Error(operationId);
      return validBodyFor(route);
    };
    const { ids } = fx;
    let partialRefund = '';
    // In order: later calls rely on earlier ones (a refund is approved after its destination is given).
    const calls: Array<[string, () => Promise<{ status: number; body: unknown; headers: Json }>]> = [
      ['createInvoice', () => h.request('POST', '/v1/invoices', { body: body('createInvoice') })],
      ['listInvoices', () => h.request('GET', '/v1/invoices')],
      ['getInvoice', () => h.request('GET', `/v1/invoices/${fx.paidInvoiceId}`)],
      ['listInvoiceEvents', () => h.request('GET', `/v1/invoices/${fx.paidInvoiceId}/events`)],
      ['listInvoiceTransitions', () => h.request('GET', `/v1/invoices/${fx.paidInvoiceId}/transitions`)],
      [
        'reportFulfilment',
        () =>
          h.request('POST', `/v1/invoices/${fx.paidInvoiceId}/fulfilment`, {
            body: body('reportFulfilment'),
          }),
      ],
      ['cancelInvoice', () => h.request('POST', `/v1/invoices/${fx.invoiceId}/cancel`)],
      [
        'invoiceOperatorAction',
        async () =>
          h.request('POST', `/v1/invoices/${await extraInvoice()}/actions`, {
            body: body('invoiceOperatorAction'),
          }),
      ],
      ['getMerchant', () => h.request('GET', '/v1/merchant')],
      ['updateMerchant', () => h.request('PATCH', '/v1/merchant', { body: body('updateMerchant') })],
      ['listWallets', () => h.request('GET', '/v1/wallets')],
      ['addWallet', () => h.request('POST', '/v1/wallets', { body: body('addWallet') })],
      ['getWallet', () => h.request('GET', `/v1/wallets/${fx.walletId}`)],
      ['listApiKeys', () => h.request('GET', '/v1/api-keys')],
      ['createApiKey', () => h.request('POST', '/v1/api-keys', { body: body('createApiKey') })],
      ['revokeApiKey', () => h.request('POST', `/v1/api-keys/${fx.spareKeyId}/revoke`)],
      ['listUsers', () => h.request('GET', '/v1/users')],
      ['createUser', () => h.request('POST', '/v1/users', { body: body('createUser') })],
      ['updateUser', () => h.request('PATCH', `/v1/users/${fx.userId}`, { body: body('updateUser') })],
      ['listExceptions', () => h.request('GET', '/v1/exceptions')],
      ['getException', () => h.request('GET', `/v1/exceptions/${fx.exceptionId}`)],
      [
        'resolveException',
        () =>
          h.request('POST', `/v1/exceptions/${fx.exceptionId}/resolve`, { body: body('resolveException') }),
      ],
      ['listAssets', () => h.request('GET', '/v1/assets', { token: null })],
      [
        'createWebhookEndpoint',
        () => h.request('POST', '/v1/webhook-endpoints', { body: body('createWebhookEndpoint') }),
      ],
      ['listWebhookEndpoints', () => h.request('GET', '/v1/webhook-endpoints')],
      ['getWebhookEndpoint', () => h.request('GET', `/v1/webhook-endpoints/${ids.whe}`)],
      [
        'updateWebhookEndpoint',
        () => h.request('PATCH', `/v1/webhook-endpoints/${ids.whe}`, { body: body('updateWebhookEndpoint') }),
      ],
      [
        'rotateWebhookSecret',
        () =>
          h.request('POST', `/v1/webhook-endpoints/${ids.whe}/rotate-secret`, {
            body: body('rotateWebhookSecret'),
          }),
      ],
      ['sendWebhookTest', () => h.request('POST', `/v1/webhook-endpoints/${ids.whe}/test`)],
      [
        'replayWebhookEvents',
        () =>
          h.request('POST', `/v1/webhook-endpoints/${ids.whe}/replay`, { body: body('replayWebhookEvents') }),
      ],
      ['listEndpointDeliveries', () => h.request('GET', `/v1/webhook-endpoints/${ids.whe}/deliveries`)],
      ['listEventDeliveries', () => h.request('GET', `/v1/events/${ids.evt}/deliveries`)],
      ['getWebhookDelivery', () => h.request('GET', `/v1/webhook-deliveries/${ids.whd}`)],
      ['redeliverWebhook', () => h.request('POST', `/v1/webhook-deliveries/${ids.whd}/redeliver`)],
      ['listEvents', () => h.request('GET', '/v1/events')],
      [
        'requestRefund',
        async () => {
          const res = await h.request('POST', `/v1/invoices/${fx.paidInvoiceId}/refunds`, {
            body: body('requestRefund'),
          });
          partialRefund = String((res.body as Json).id);
          return res;
        },
      ],
      ['cancelRefund', () => h.request('POST', `/v1/refunds/${partialRefund}/cancel`)],
      [
        'submitRefundDestination',
        () =>
          h.request('POST', `/v1/refund-links/${ids.rfl}`, {
            token: null,
            body: body('submitRefundDestination'),
          }),
      ],
      [
        'approveRefund',
        () =>
          h.request('POST', `/v1/refunds/${ids.ref}/approve`, {
            token: approver,
            body: body('approveRefund'),
          }),
      ],
      [
        'buildRefundTransaction',
        () =>
          h.request('POST', `/v1/refunds/${ids.ref}/transaction`, { body: body('buildRefundTransaction') }),
      ],
      ['getRefund', () => h.request('GET', `/v1/refunds/${ids.ref}`)],
      ['listRefunds', () => h.request('GET', '/v1/refunds')],
      ['ledgerBalances', () => h.request('GET', '/v1/ledger/balances')],
      ['verifyLedger', () => h.request('GET', '/v1/ledger/verify')],
      [
        'settlementReport',
        () => h.request('GET', '/v1/settlement/report?from=2026-11-01T00:00:00Z&to=2026-11-22T00:00:00Z'),
      ],
      [
        'settlementReport text/csv',
        () =>
          h.request(
            'GET',
            '/v1/settlement/report?from=2026-11-01T00:00:00Z&to=2026-11-22T00:00:00Z&format=csv',
          ),
      ],
    ];
    for (const [name, call] of calls) {
      const res = await call();
      const contentType = String(res.headers['content-type'] ?? '');
      answers.set(name, { status: res.status, body: res.body, contentType });
    }
  });
  afterAll(async () => h?.close());

  const documented = ALL_ROUTES.filter((r) => r.response);
  const exercised = documented.filter((r) => !NOT_EXERCISED.includes(r.operationId));

  it('documents a success response for every route but the known list', () => {
    expect(ALL_ROUTES.filter((r) => !r.response).map((r) => r.operationId)).toEqual(UNDOCUMENTED_RESPONSES);
    for (const route of documented) {
      const content = successContent(spec, route);
      expect(Object.keys(content).length, route.operationId).toBeGreaterThan(0);
      expect(content['application/json']?.schema, route.operationId).not.toEqual({ type: 'object' });
    }
  });

  it('resolves every $ref to a published component, and publishes the shared shapes', () => {
    const names = Object.keys(spec.components.schemas);
    for (const ref of refsIn(spec)) expect(names).toContain(ref.replace('#/components/schemas/', ''));
    for (const name of [
      'Invoice',
      'PaymentOption',
      'Payment',
      'Exception',
      'Refund',
      'Event',
      'WebhookEndpoint',
      'Delivery',
      'ApiKey',
      'Wallet',
      'User',
      'Merchant',
      'InvoiceList',
    ])
      expect(names).toContain(name);
  });

  it('calls every documented route but the known list, each answering its success status', () => {
    expect([...answers.keys()].filter((k) => !k.includes(' ')).sort()).toEqual(
      exercised.map((r) => r.operationId).sort(),
    );
    for (const route of exercised) {
      const answer = answers.get(route.operationId);
      expect(answer?.status, `${route.operationId}: ${preview(answer?.body)}`).toBe(
        route.successStatus ?? 200,
      );
    }
  });

  it.each(exercised.map((r) => ({ route: r, op: r.operationId })))(
    '$op answers a body its documented schema accepts (objects closed)',
    ({ route }) => {
      const answer = answers.get(route.operationId);
      if (!answer) throw new Error(`${route.operationId} was not called`);
      expect(answer.contentType).toMatch(/^application\/json/);
      const validate = validatorOf(route);
      expect(validate(answer.body) ? [] : validate.errors, preview(answer.body)).toEqual([]);
    },
  );

  it('documents the settlement report CSV as text/csv, the media type it answers', () => {
    const route = ALL_ROUTES.find((r) => r.operationId === 'settlementReport') as RouteDef;
    expect(Object.keys(successContent(spec, route)).sort()).toEqual(['application/json', 'text/csv']);
    const csv = answers.get('settlementReport text/csv');
    expect(csv?.status).toBe(200);
    expect(csv?.contentType).toMatch(/^text\/csv/);
    expect(validatorOf(route, 'text/csv')(csv?.body)).toBe(true);
    // The JSON twin has rows, so the row schema above was checked against real ones.
    expect(
      (answers.get('settlementReport')?.body as { rows?: unknown[] } | undefined)?.rows?.length,
    ).toBeGreaterThan(0);
  });

  it('has teeth: an undocumented field, or a documented one missing, is refused', () => {
    let nested = 0;
    for (const route of exercised) {
      const body = answers.get(route.operationId)?.body as Json;
      const validate = validatorOf(route);
      expect(validate({ ...body, undocumented_field: 1 }), route.operationId).toBe(false);
      const [first] = Object.keys(body);
      const without = { ...body };
      delete without[first as string];
      expect(validate(without), `${route.operationId} without ${first}`).toBe(false);
      // Inside the list items, too: the item components are closed as well.
      const item = (body.data as Json[] | undefined)?.[0];
      if (item && typeof item === 'object') {
        nested += 1;
        const data = [{ ...item, undocumented_field: 1 }, ...(body.data as Json[]).slice(1)];
        expect(validate({ ...body, data }), `${route.operationId} data[0]`).toBe(false);
      }
    }
    expect(nested).toBeGreaterThan(10);
  });
});
