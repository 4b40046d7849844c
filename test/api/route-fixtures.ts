import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';
import type { RouteDef } from '../../src/api/route.ts';
import type { Tally } from '../../src/context.ts';
import { ERROR_CATALOGUE } from '../../src/core/errors.ts';
import { type IdPrefix, newId } from '../../src/core/ids.ts';
import type { Schema } from '../../src/db/schema.ts';
import { DEV_REGTEST_TPUB } from '../../src/dev/dev-wallets.ts';
import { applyFact } from '../../src/invoices/apply-fact.ts';
import type { Harness } from '../helpers/harness.ts';

/**
 * Shared by the API suites: a schema-valid body for every route that takes one, the id prefix of
 * every `:id` route, and the checks every error response must pass. Keyed by operationId, so a new
 * route without an entry here makes the suites fail instead of silently going untested.
 */

/** A body each body-taking route's schema accepts; hostile cases are mutations of it. */
export const VALID_BODIES: Record<string, Record<string, unknown>> = {
  createInvoice: {
    price: { amount: '5.00', currency: 'USD' },
    payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
    merchant_order_id: 'order-1',
    customer_id: 'cust-1',
    description: 'two mugs',
    metadata: { sku: 'mug-2' },
    expires_in_seconds: 900,
    success_url: 'https://shop.example/ok',
    cancel_url: 'https://shop.example/cancel',
    policy: {
      zero_conf_max_value: '1.00',
      confirmation_tiers: { 'bitcoin-regtest': [{ max_value: '100.00', confirmations: 2 }] },
    },
  },
  reportFulfilment: { reference: 'ship-1', note: 'sent by post' },
  invoiceOperatorAction: { action: 'mark_failed', reason: 'operator test reason' },
  updateMerchant: {
    name: 'Renamed Store',
    policy: {
      expiry_seconds: 600,
      value_currency: 'USD',
      zero_conf_max_value: '10.00',
      confirmation_tiers: { 'bitcoin-regtest': [{ max_value: '100.00', confirmations: 2 }] },
    },
  },
  addWallet: { scope: 'bitcoin-testnet', xpub: DEV_REGTEST_TPUB, label: 'cold' },
  createApiKey: { name: 'ci key', scopes: ['invoices:read'] },
  createUser: { email: 'new.person@example.com', role: 'support' },
  updateUser: { role: 'finance' },
  resolveException: { resolution: 'dismissed', reason: 'checked by ops' },
  // Loopback: the harness allow-lists 127.0.0.1 for the SSRF guard (port 9, discard: never answers).
  createWebhookEndpoint: {
    url: 'http://127.0.0.1:9/hooks',
    events: ['invoice.paid', 'invoice.expired'],
    description: 'shop backend',
    enabled: true,
  },
  updateWebhookEndpoint: { description: 'renamed', events: ['*'] },
  rotateWebhookSecret: { overlap_seconds: 3600 },
  replayWebhookEvents: { since: '2026-11-21T00:00:00Z' },
  requestRefund: {
    kind: 'partial',
    amount: '0.0001',
    destination: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    reason: 'customer asked',
  },
  approveRefund: { reason: 'checked by finance' },
  reportRefundTransaction: { txid: `0x${'ab'.repeat(32)}` },
  buildRefundTransaction: { fee_rate: '2' },
  submitRefundDestination: { destination: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080' },
};

export function validBodyFor(route: RouteDef): Record<string, unknown> {
  const body = VALID_BODIES[route.operationId];
  if (!body) throw new Error(`No valid body for ${route.operationId}: add one to VALID_BODIES`);
  return structuredClone(body);
}

/** "inv" for a route whose :id must match ^inv_…$. */
export function idPrefixOf(route: RouteDef): string {
  const props = (
    route.params as { properties?: { id?: { pattern?: string }; token?: { pattern?: string } } } | undefined
  )?.properties;
  // A customer-facing link route names its credential `token` (refund links: rfl_…).
  const pattern = props?.id?.pattern ?? props?.token?.pattern;
  const prefix = pattern ? /^\^([a-z]{3})_/.exec(pattern)?.[1] : undefined;
  if (!prefix)
    throw new Error(`${route.method} ${route.url}: cannot read the id prefix from its params schema`);
  return prefix;
}

export function urlWithId(route: RouteDef, id: string): string {
  return route.url.replace(':id', id).replace(':token', id);
}

/** A fresh, well-formed id of the given prefix that names nothing. */
export function unknownId(prefix: string): string {
  return newId(prefix as IdPrefix);
}

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const ajv = new Ajv({ strict: false, allErrors: false, coerceTypes: false, useDefaults: false });
addFormats(ajv);
const validators = new Map<unknown, ValidateFunction>();

/** Whether the JSON Schema validator (same schema, same options as the server) accepts a value. */
export function schemaAccepts(schema: unknown, value: unknown): boolean {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(JSON.parse(JSON.stringify(schema)));
    validators.set(schema, validate);
  }
  return validate(value) === true;
}

export interface ErrorResponse {
  status: number;
  body: unknown;
}

/**
 * The checks every refused request must pass: a 4xx (never a 5xx unless expected), the `{error:{code,message}}`
 * shape with a catalogued code whose status is the one sent, and for 422 validation errors, issues
 * naming fields. Returns the problems found (empty = fine), so corpus runs can report them all.
 */
export function errorProblems(
  res: ErrorResponse,
  expected: { status?: number; code?: string; path?: string } = {},
): string[] {
  const problems: string[] = [];
  // A 5xx is only ever acceptable where the caller expects exactly that one (rate_unavailable is 503).
  if (res.status < 400 || (res.status >= 500 && expected.status !== res.status))
    problems.push(`status ${res.status}`);
  const error = (res.body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)
    ?.error;
  if (!error || typeof error !== 'object') return [...problems, `no error object: ${preview(res.body)}`];
  const code = typeof error.code === 'string' ? error.code : '';
  const entry = (ERROR_CATALOGUE as Record<string, { status: number }>)[code];
  if (!entry) problems.push(`code ${String(error.code)} is not in ERROR_CATALOGUE`);
  else if (entry.status !== res.status) problems.push(`code ${code} is ${entry.status}, sent ${res.status}`);
  if (typeof error.message !== 'string' || error.message.length === 0) problems.push('no message');
  if (expected.status !== undefined && res.status !== expected.status)
    problems.push(`expected status ${expected.status}, got ${res.status} ${code}`);
  if (expected.code !== undefined && code !== expected.code)
    problems.push(`expected code ${expected.code}, got ${code}`);
  if (code === 'validation_failed') {
    const issues = (error.details as { issues?: Array<{ path?: unknown; message?: unknown }> } | undefined)
      ?.issues;
    if (!Array.isArray(issues) || issues.length === 0) problems.push('validation_failed without issues');
    else {
      if (issues.some((i) => typeof i.path !== 'string' || typeof i.message !== 'string'))
        problems.push(`malformed issues ${preview(issues)}`);
      if (expected.path !== undefined && !issues.some((i) => within(String(i.path), expected.path ?? '')))
        problems.push(
          `expected an issue at ${expected.path}, got ${issues.map((i) => String(i.path)).join(', ')}`,
        );
    }
  } else if (expected.path !== undefined) {
    problems.push(`expected validation_failed at ${expected.path}, got ${code}`);
  }
  return problems;
}

/** `path` is the field or inside it: `price` is named by an issue at `price.amount`. */
function within(path: string, field: string): boolean {
  return path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`);
}

export function expectError(
  res: ErrorResponse,
  expected: { status?: number; code?: string; path?: string } = {},
): void {
  expect(errorProblems(res, expected), preview(res.body)).toEqual([]);
}

export function preview(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return (text ?? String(value)).slice(0, 300);
}

export const TABLES: Array<keyof Schema> = [
  'merchants',
  'api_keys',
  'users',
  'wallets',
  'wallet_addresses',
  'invoices',
  'payment_options',
  'payments',
  'transitions',
  'applied_facts',
  'events',
  'exceptions',
  'jobs',
  'idempotency_keys',
  'webhook_endpoints',
  'webhook_deliveries',
  'webhook_attempts',
];

/** Every row of every table, in a stable order, as JSON-comparable values. */
export async function snapshot(tally: Tally, merchantId?: string): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of TABLES) {
    // biome-ignore lint/suspicious/noExplicitAny: one generic query over every table.
    let q = tally.database.db.selectFrom(table as any).selectAll() as any;
    if (merchantId) {
      if (table === 'merchants') q = q.where('id', '=', merchantId);
      else if (['wallet_addresses', 'applied_facts', 'jobs'].includes(table)) continue;
      else q = q.where('merchant_id', '=', merchantId);
    }
    const rows = (await q.execute()) as Record<string, unknown>[];
    out[table] = rows
      .map((r) => JSON.parse(JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))))
      .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  }
  return out;
}

export async function countRows(tally: Tally, table: keyof Schema): Promise<number> {
  const row = await tally.database.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface MerchantFixture {
  merchantId: string;
  token: string;
  invoiceId: string;
  /** An invoice paid three times over: overpaid, with an open overpayment exception. */
  paidInvoiceId: string;
  walletId: string;
  /** A key that is not the one in `token`, safe to use as a revoke target. */
  spareKeyId: string;
  userId: string;
  exceptionId: string;
  eventId: string;
  /** Prefix → an id of this merchant, for every `:id` kind of resource. */
  ids: Record<string, string>;
}

/**
 * One merchant with one of everything the API can address by id: invoices (one overpaid with an
 * exception, applied through the real fact path), wallets, a spare API key, a user and events.
 */
export async function merchantWithEverything(
  h: Harness,
  existing?: { merchantId: string; token: string },
  label = 'm',
): Promise<MerchantFixture> {
  const { merchantId, token } = existing ?? (await h.newMerchant(`Store ${label}`));
  const create = async (order: string) => {
    const res = await h.request('POST', '/v1/invoices', {
      token,
      body: {
        price: { amount: '10.00', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        merchant_order_id: order,
        customer_id: `${label}-customer`,
      },
    });
    if (res.status !== 201) throw new Error(`invoice: ${res.status} ${preview(res.body)}`);
    return res.body as { id: string; payment_options: Array<{ id: string; amount_due_base_units: string }> };
  };
  const invoice = await create(`${label}-open`);
  const paid = await create(`${label}-paid`);
  const option = paid.payment_options[0]!;
  const outcome = await applyFact(h.tally, merchantId, paid.id, {
    kind: 'payment_seen',
    id: `seen:${paid.id}`,
    payment: {
      paymentId: newId('pay'),
      optionId: option.id,
      txid: 'ab'.repeat(32),
      outputIndex: 0,
      amount: BigInt(option.amount_due_base_units) * 3n,
      rbf: false,
      confirmations: 100,
      blockHash: 'cd'.repeat(32),
      blockHeight: 100,
    },
  });
  if (!outcome.changed) throw new Error(`payment not applied: ${outcome.rejected}`);
  const exception = await h.tally.database.db
    .selectFrom('exceptions')
    .select('id')
    .where('merchant_id', '=', merchantId)
    .executeTakeFirstOrThrow();
  const wallet = await h.tally.database.db
    .selectFrom('wallets')
    .select('id')
    .where('merchant_id', '=', merchantId)
    .orderBy('id')
    .executeTakeFirstOrThrow();
  const key = await h.request('POST', '/v1/api-keys', {
    token,
    body: { name: `${label} spare`, scopes: ['invoices:read'] },
  });
  const user = await h.request('POST', '/v1/users', {
    token,
    body: { email: `owner.${label}.${merchantId.slice(-6)}@example.com`, role: 'admin' },
  });
  if (key.status !== 201 || user.status !== 201) throw new Error('key or user creation failed');
  const event = await h.tally.database.db
    .selectFrom('events')
    .select('id')
    .where('merchant_id', '=', merchantId)
    .orderBy('id')
    .executeTakeFirstOrThrow();
  const endpoint = await h.request('POST', '/v1/webhook-endpoints', {
    token,
    body: { url: 'http://127.0.0.1:9/hooks', description: `${label} hooks` },
  });
  if (endpoint.status !== 201)
    throw new Error(`webhook endpoint: ${endpoint.status} ${preview(endpoint.body)}`);
  const test = await h.request('POST', `/v1/webhook-endpoints/${endpoint.body.id}/test`, { token });
  if (test.status !== 200) throw new Error(`webhook test: ${test.status} ${preview(test.body)}`);
  // A refund asked by the link (no destination yet): the :id refund routes and the public link route.
  const refund = await h.request('POST', `/v1/invoices/${paid.id}/refunds`, {
    token,
    body: { kind: 'excess', customer_link: true, reason: `${label} overpaid` },
  });
  if (refund.status !== 201) throw new Error(`refund: ${refund.status} ${preview(refund.body)}`);
  const ids = {
    mer: merchantId,
    ref: refund.body.id as string,
    rfl: refund.body.customer_link_token as string,
    whe: endpoint.body.id as string,
    whd: test.body.delivery_id as string,
    inv: invoice.id,
    wal: wallet.id,
    key: key.body.id as string,
    usr: user.body.id as string,
    exc: exception.id,
    evt: event.id,
  };
  return {
    merchantId,
    token,
    invoiceId: invoice.id,
    paidInvoiceId: paid.id,
    walletId: wallet.id,
    spareKeyId: ids.key,
    userId: ids.usr,
    exceptionId: exception.id,
    eventId: event.id,
    ids,
  };
}
