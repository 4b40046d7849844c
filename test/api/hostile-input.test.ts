import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteDef } from '../../src/api/route.ts';
import { ALL_ROUTES } from '../../src/api/routes/index.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import {
  countRows,
  errorProblems,
  expectError,
  idPrefixOf,
  type MerchantFixture,
  merchantWithEverything,
  preview,
  schemaAccepts,
  snapshot,
  unknownId,
  urlWithId,
  validBodyFor,
} from './route-fixtures.ts';

/**
 * SCENARIOS case 26: a corpus of hostile requests thrown at every route that takes a body, path
 * params or a query. Every answer must be a 4xx (never 5xx) in the `{error:{code,message}}` shape
 * with a catalogued code; 422s name the offending field; and nothing is written.
 */

const BODY_LIMIT = 1024 * 1024;
type Segment = string | number;
type Expected = { status?: number; code?: string; path?: string };

interface Case {
  name: string;
  url: string;
  payload?: string | Buffer;
  contentType?: string;
  expected: Expected;
}

/** A value JSON.stringify cannot produce (1e400, 30-digit integers): spliced into the text as is. */
class Raw {
  constructor(readonly text: string) {}
}

function toJson(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v) => {
    if (v instanceof Raw) {
      raws.push(v.text);
      return `@@RAW${raws.length - 1}@@`;
    }
    return v;
  });
  return text.replace(/"@@RAW(\d+)@@"/g, (_m, i: string) => raws[Number(i)] ?? '');
}

/** "price.amount", "payment_options[0].asset": the path format the API reports issues in. */
function pathOf(segments: Segment[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

/** Every node below the root of a JSON value, with its path. */
function nodes(value: unknown, at: Segment[] = []): Array<{ path: Segment[]; value: unknown }> {
  const out: Array<{ path: Segment[]; value: unknown }> = [];
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push({ path: [...at, i], value: v }, ...nodes(v, [...at, i]));
    });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value))
      out.push({ path: [...at, k], value: v }, ...nodes(v, [...at, k]));
  }
  return out;
}

function withValue(body: unknown, path: Segment[], value: unknown, remove = false): unknown {
  const copy = structuredClone(body) as Record<Segment, unknown>;
  let parent = copy;
  for (const s of path.slice(0, -1)) parent = parent[s] as Record<Segment, unknown>;
  const last = path[path.length - 1] as Segment;
  if (remove) delete parent[last];
  else parent[last] = value;
  return copy;
}

const WRONG_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  'x',
  '',
  [],
  {},
  ['x'],
  { a: 1 },
  new Raw('1e400'),
  new Raw('-1e400'),
  new Raw('123456789012345678901234567890'),
  new Raw('1e5'),
  new Raw('-0'),
  'x'.repeat(5000),
];

/** Amount-shaped strings the schema's decimal pattern must refuse. */
const BAD_AMOUNTS: unknown[] = [
  '1e5',
  '1E5',
  '1e-5',
  '-1',
  '+1',
  '0.123456789012345678901234567890123456789',
  'abc',
  '9'.repeat(200),
  ' 1',
  '1 ',
  '1.',
  '.5',
  '0x10',
  '1,5',
  '1_000',
  'NaN',
  'Infinity',
  '01',
  '١٢',
  '１',
  5,
  new Raw('123456789012345678901234567890'),
  new Raw('1e400'),
];
const AMOUNT_KEYS = new Set(['amount', 'zero_conf_max_value', 'max_value']);
const BAD_STRINGS = ['\u0000', 'a\u0000b', '\ud800', 'x\udfff'];
const BAD_UTF8 = [
  [0xff],
  [0xc0, 0xaf],
  [0x80],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xfe],
];
const INVALID_JSON = [
  '{',
  '{"a":}',
  "{'a':1}",
  '{"a":1,}',
  'NaN',
  '{"a":NaN}',
  'undefined',
  '{"a":1}{"b":2}',
  '\u0000',
  '[1,]',
];
const NON_JSON_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  'text/json',
  'application/jsonp',
];

function deep(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A JSON text exactly `size` bytes long: `body` with its string at `path` padded out. */
function sized(body: unknown, path: Segment[], size: number): string {
  const base = toJson(withValue(body, path, ''));
  return toJson(withValue(body, path, 'a'.repeat(size - Buffer.byteLength(base))));
}

/** The corpus for one route, against the fixture's real ids (so a request that slipped through would write). */
function casesFor(route: RouteDef, fx: MerchantFixture): Case[] {
  const cases: Case[] = [];
  const id = route.params ? targetId(route, fx) : '';
  const url = urlWithId(route, id);
  const json = 'application/json';

  if (route.body) {
    const body = validBodyFor(route);
    if (!schemaAccepts(route.body, body))
      throw new Error(`VALID_BODIES.${route.operationId} fails its schema`);
    const add = (name: string, value: unknown, expected: Expected, alwaysInvalid = false) => {
      const payload = toJson(value);
      if (!alwaysInvalid && schemaAccepts(route.body, JSON.parse(payload))) return;
      cases.push({ name, url, payload, contentType: json, expected });
    };
    const all = nodes(body);
    for (const node of all) {
      const p = pathOf(node.path);
      for (const wrong of WRONG_VALUES) {
        add(`${p} = ${preview(toJson(wrong)).slice(0, 40)}`, withValue(body, node.path, wrong), {
          status: 422,
          code: 'validation_failed',
          path: p,
        });
      }
      add(`${p} removed`, withValue(body, node.path, undefined, true), { status: 422, path: p });
      if (node.value && typeof node.value === 'object' && !Array.isArray(node.value)) {
        add(`${p} + unknown field`, withValue(body, [...node.path, 'unexpected_field'], 1), {
          status: 422,
          path: `${p}.unexpected_field`,
        });
      }
      if (typeof node.value === 'string') {
        for (const bad of BAD_STRINGS) {
          add(
            `${p} = ${JSON.stringify(bad)}`,
            withValue(body, node.path, bad),
            { status: 422, path: p },
            true,
          );
        }
      }
      const key = node.path[node.path.length - 1];
      if (typeof key === 'string' && AMOUNT_KEYS.has(key)) {
        for (const amount of BAD_AMOUNTS) {
          add(`${p} = ${toJson(amount).slice(0, 40)}`, withValue(body, node.path, amount), {
            status: 422,
            path: p,
          });
        }
        // Well-formed decimals the schema lets through but the amount's currency does not.
        const semantic = ['5.001', `1${'0'.repeat(77)}`, ...(key === 'amount' ? ['0', '0.00'] : [])];
        for (const amount of semantic) {
          add(
            `${p} = ${amount.slice(0, 20)}`,
            withValue(body, node.path, amount),
            { status: 422, path: p },
            true,
          );
        }
      }
    }
    add(
      'root + unknown field',
      { ...body, unexpected_field: 'x' },
      { status: 422, path: 'unexpected_field' },
    );
    add('root + __type', { ...body, __type: 'admin' }, { status: 422, path: '__type' });

    // A body with no string field (e.g. only an integer) is padded through an unknown field,
    // which must then be the field the 422 names.
    const found = all.find((n) => typeof n.value === 'string');
    const padded = found ? body : { ...body, padding: '' };
    const firstString = found ?? { path: ['padding'] as Segment[] };
    cases.push(
      {
        name: '1 MiB - 1 byte',
        url,
        payload: sized(padded, firstString.path, BODY_LIMIT - 1),
        contentType: json,
        expected: { status: 422, path: pathOf(firstString.path) },
      },
      {
        name: '1 MiB exactly',
        url,
        payload: sized(padded, firstString.path, BODY_LIMIT),
        contentType: json,
        expected: { status: 422, path: pathOf(firstString.path) },
      },
      {
        name: '1 MiB + 1 byte',
        url,
        payload: sized(padded, firstString.path, BODY_LIMIT + 1),
        contentType: json,
        expected: { status: 413, code: 'body_too_large' },
      },
    );
    const marked = toJson(withValue(padded, firstString.path, 'UTF8MARK')).split('UTF8MARK');
    for (const bytes of BAD_UTF8) {
      cases.push({
        name: `invalid UTF-8 ${bytes.map((b) => b.toString(16)).join(' ')}`,
        url,
        payload: Buffer.concat([
          Buffer.from(marked[0] ?? ''),
          Buffer.from(bytes),
          Buffer.from(marked[1] ?? ''),
        ]),
        contentType: json,
        expected: { status: 400, code: 'invalid_json' },
      });
    }
    cases.push(
      {
        name: 'UTF-16 body',
        url,
        payload: Buffer.from(toJson(body), 'utf16le'),
        contentType: 'application/json; charset=utf-16le',
        expected: { status: 400, code: 'invalid_json' },
      },
      {
        name: 'nested __proto__',
        url,
        payload: toJson(body).replace(/^\{/, '{"__proto__":{"admin":true},'),
        contentType: json,
        expected: { status: 400, code: 'invalid_json' },
      },
      {
        name: 'constructor.prototype',
        url,
        payload: toJson(body).replace(/^\{/, '{"constructor":{"prototype":{"admin":true}},'),
        contentType: json,
        expected: { status: 400, code: 'invalid_json' },
      },
      ...['1', '"s"', 'true', 'null', '[]', '[{}]', '1e400'].map((payload) => ({
        name: `top-level ${payload}`,
        url,
        payload,
        contentType: json,
        expected: { status: 422, path: 'body' },
      })),
      // A route whose body fields are all optional takes no body as {} (route.bodyOptional).
      ...(route.bodyOptional
        ? []
        : [
            {
              name: 'empty body',
              url,
              payload: '',
              contentType: json,
              expected: { status: 422, path: 'body' },
            },
            { name: 'no body at all', url, expected: { status: 422, path: 'body' } },
          ]),
      ...NON_JSON_TYPES.map((contentType) => ({
        name: `content-type ${contentType}`,
        url,
        payload: toJson(body),
        contentType,
        expected: { status: 415, code: 'unsupported_media_type' },
      })),
      {
        name: 'no content-type',
        url,
        payload: Buffer.from(toJson(body)),
        expected: { status: 415, code: 'unsupported_media_type' },
      },
    );
  } else if (route.method !== 'GET') {
    // A route that takes no body: anything but nothing, {} or null is refused.
    for (const payload of [
      '[]',
      '[{}]',
      '{"a":1}',
      '{"reason":"x"}',
      '1',
      '0',
      '"x"',
      'true',
      'false',
      '"\\u0000"',
    ]) {
      cases.push({
        name: `body ${payload}`,
        url,
        payload,
        contentType: json,
        expected: { status: 422, path: 'body' },
      });
    }
    cases.push(
      {
        name: '1 MiB - 1 byte string',
        url,
        payload: `"${'a'.repeat(BODY_LIMIT - 3)}"`,
        contentType: json,
        expected: { status: 422, path: 'body' },
      },
      {
        name: '1 MiB + 1 byte string',
        url,
        payload: `"${'a'.repeat(BODY_LIMIT - 1)}"`,
        contentType: json,
        expected: { status: 413, code: 'body_too_large' },
      },
      ...BAD_UTF8.map((bytes) => ({
        name: `invalid UTF-8 ${bytes.join(' ')}`,
        url,
        payload: Buffer.concat([Buffer.from('{"a":"'), Buffer.from(bytes), Buffer.from('"}')]),
        contentType: json,
        expected: { status: 400, code: 'invalid_json' },
      })),
      {
        name: '__proto__',
        url,
        payload: '{"__proto__":{"admin":true}}',
        contentType: json,
        expected: { status: 400, code: 'invalid_json' },
      },
      ...NON_JSON_TYPES.map((contentType) => ({
        name: `content-type ${contentType}`,
        url,
        payload: 'x=1',
        contentType,
        expected: { status: 415, code: 'unsupported_media_type' },
      })),
    );
  }
  if (route.method !== 'GET') {
    for (const payload of [
      ...INVALID_JSON,
      deep(10_000, 'array'),
      deep(10_000, 'object'),
      deep(33, 'array'),
    ]) {
      cases.push({
        name: `invalid JSON ${payload.slice(0, 20)}`,
        url,
        payload,
        contentType: json,
        expected: { status: 400, code: 'invalid_json' },
      });
    }
  }

  if (route.params) {
    const prefix = idPrefixOf(route);
    const withBody = (name: string, rawId: string, expected: Expected): Case => ({
      name,
      url: urlWithId(route, rawId),
      ...(route.body ? { payload: toJson(validBodyFor(route)), contentType: json } : {}),
      expected,
    });
    // A customer-facing link route names its parameter `token` (refund links), the others `id`.
    const properties = (route.params as unknown as { properties?: Record<string, unknown> }).properties ?? {};
    const param = 'token' in properties ? 'token' : 'id';
    const invalid = { status: 422, code: 'validation_failed', path: `params.${param}` };
    cases.push(
      withBody('id garbage', 'garbage', invalid),
      withBody('id upper-case', id.toUpperCase(), invalid),
      withBody('id wrong prefix', `zzz${id.slice(3)}`, invalid),
      withBody('id too short', id.slice(0, -1), invalid),
      withBody('id too long', `${id}a`, invalid),
      withBody('id with NUL', '%00', invalid),
      withBody('id + NUL', `${id}%00`, invalid),
      withBody('id SQL', `${prefix}_'%20OR%20'1'%3D'1`, invalid),
      withBody('id traversal', '..%2F..%2Fetc%2Fpasswd', invalid),
      withBody('id unicode', `${prefix}_${'é'.repeat(26)}`, invalid),
      withBody('id bad percent-encoding', '%ff', { status: 422, code: 'validation_failed', path: 'url' }),
      withBody('id over-long', 'a'.repeat(300), { status: 422, code: 'validation_failed', path: 'url' }),
      withBody('id unknown', unknownId(prefix), { status: 404, code: 'not_found' }),
    );
  }

  if (route.querystring) {
    const props = Object.keys((route.querystring as { properties?: object }).properties ?? {});
    const specific: Record<string, string[]> = {
      limit: ['0', 'abc', '1000', '-1', '1.5', '101', '1e2', '%201', '0x10', '01', '１'],
      starting_after: [
        'garbage',
        'INV_01JB0000000000000000000000',
        "x'%20OR%20'1'%3D'1",
        'inv_',
        `${id || 'inv_x'}%00`,
      ],
      status: ['bogus', 'PAID'],
      type: ['invoice', 'Invoice.Paid', 'a.b.c'],
      kind: ['A', 'x'.repeat(41)],
    };
    for (const name of props) {
      const values = ['', 'x'.repeat(1000), '%00', 'a%00', ...(specific[name] ?? [])];
      for (const v of values) {
        cases.push({
          name: `?${name}=${v.slice(0, 20)}`,
          url: `${url}?${name}=${v}`,
          expected: { status: 422, code: 'validation_failed', path: `querystring.${name}` },
        });
      }
      cases.push({
        name: `?${name} twice`,
        url: `${url}?${name}=1&${name}=2`,
        expected: { status: 422, code: 'validation_failed', path: `querystring.${name}` },
      });
    }
    for (const key of ['bogus', '__proto__', 'constructor', 'limit[]']) {
      cases.push({
        name: `unknown ?${key}`,
        url: `${url}?${key}=1`,
        expected: { status: 422, code: 'validation_failed', path: `querystring.${key}` },
      });
    }
  }
  return cases;
}

/** Real ids of the acting merchant, so that a request the validation let through would do something. */
function targetId(route: RouteDef, fx: MerchantFixture): string {
  const prefix = idPrefixOf(route);
  // Revoke the spare key, never the one the corpus authenticates with.
  const id = prefix === 'key' ? fx.spareKeyId : fx.ids[prefix];
  if (!id) throw new Error(`${route.method} ${route.url}: no fixture id for prefix "${prefix}"`);
  return id;
}

const HOSTILE_ROUTES = ALL_ROUTES.filter((r) => r.body || r.params || r.querystring);

describe.each(DATABASES)('hostile input on $name (SCENARIOS 26)', ({ fresh }) => {
  let h: Harness;
  let fx: MerchantFixture;
  let before: Record<string, unknown[]>;
  let counts: Record<string, number>;
  const counted = ['invoices', 'wallets', 'api_keys', 'users'] as const;

  beforeAll(async () => {
    h = await createHarness(await fresh());
    fx = await merchantWithEverything(h, { merchantId: h.merchantId, token: h.token }, 'a');
    before = await snapshot(h.tally);
    counts = {};
    for (const t of counted) counts[t] = await countRows(h.tally, t);
  });
  afterAll(async () => h?.close());

  async function send(method: string, c: Case) {
    const headers: Record<string, string> = { authorization: `Bearer ${fx.token}` };
    if (c.contentType !== undefined) headers['content-type'] = c.contentType;
    const res = await h.app.server.inject({
      method: method as 'GET',
      url: c.url,
      headers,
      ...(c.payload !== undefined ? { payload: c.payload } : {}),
    });
    let body: unknown = res.body;
    try {
      body = JSON.parse(res.body);
    } catch {}
    return { status: res.statusCode, body, contentType: String(res.headers['content-type'] ?? '') };
  }

  it('covers every route that takes a body, params or a query', () => {
    expect(HOSTILE_ROUTES.length).toBeGreaterThanOrEqual(13);
    for (const route of HOSTILE_ROUTES) expect(casesFor(route, fx).length, route.url).toBeGreaterThan(10);
  });

  it.each(HOSTILE_ROUTES.map((r) => ({ route: r, label: `${r.method} ${r.url}` })))(
    'refuses the corpus on $label with coded 4xx errors',
    async ({ route }) => {
      const cases = casesFor(route, fx);
      const failures: string[] = [];
      for (const c of cases) {
        const res = await send(route.method, c);
        const problems = errorProblems(res, c.expected);
        if (!res.contentType.startsWith('application/json')) problems.push(`content-type ${res.contentType}`);
        if (problems.length > 0) failures.push(`${c.name}: ${problems.join('; ')} — ${preview(res.body)}`);
      }
      expect(failures).toEqual([]);
    },
  );

  it.each([
    ['1e5', 'exponent'],
    ['-1', 'negative'],
    ['0.123456789012345678901234567890123456789', 'too many decimals for the schema'],
    ['5.001', 'more decimals than USD has'],
    ['abc', 'non-numeric'],
    ['9'.repeat(200), 'absurdly large'],
    [`1${'0'.repeat(77)}`, 'above uint256 in base units'],
  ])('price.amount %j (%s) → 422 naming price.amount', async (amount) => {
    const res = await h.request('POST', '/v1/invoices', {
      token: fx.token,
      body: {
        price: { amount, currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      },
    });
    expectError(res, { status: 422, code: 'validation_failed', path: 'price.amount' });
  });

  it('refuses hostile credentials with 401 unauthenticated, never a 5xx', async () => {
    const [, keyId] = /^tally_sk_(key_[0-9a-z]{26})_/.exec(fx.token) ?? [];
    const authorizations = [
      '',
      'Bearer',
      'Bearer ',
      'Basic dXNlcjpwYXNz',
      `Bearer ${'x'.repeat(10_000)}`,
      `Bearer tally_sk_${keyId}_${'A'.repeat(43)}`,
      `Bearer tally_sk_${unknownId('key')}_${'A'.repeat(43)}`,
      `Bearer ${fx.token}x`,
      `Bearer ${fx.token.toUpperCase()}`,
      `Bearer ${fx.token} ${fx.token}`,
      `Bearer tally_sk_key_' OR '1'='1_${'A'.repeat(43)}`,
    ];
    for (const authorization of authorizations) {
      const res = await h.app.server.inject({
        method: 'GET',
        url: '/v1/invoices',
        headers: { authorization },
      });
      expectError(
        { status: res.statusCode, body: JSON.parse(res.body) },
        { status: 401, code: 'unauthenticated' },
      );
    }
  });

  it('refuses a merchant policy whose thresholds the value currency cannot express', async () => {
    const zeroConf = await h.request('PATCH', '/v1/merchant', {
      token: fx.token,
      body: { policy: { zero_conf_max_value: '0.001' } },
    });
    expectError(zeroConf, { status: 422, path: 'policy.zero_conf_max_value' });
    const tier = await h.request('PATCH', '/v1/merchant', {
      token: fx.token,
      body: {
        policy: {
          confirmation_tiers: { 'bitcoin-regtest': [{ max_value: '0.5', confirmations: 1 }] },
          value_currency: 'JPY',
        },
      },
    });
    expectError(tier, { status: 422, path: 'policy.confirmation_tiers.bitcoin-regtest[0].max_value' });
    const unknown = await h.request('PATCH', '/v1/merchant', {
      token: fx.token,
      body: { policy: { value_currency: 'ZZZ' } },
    });
    expectError(unknown, { status: 422, path: 'policy.value_currency' });
    // A misspelt network would never match an option: its invoices would wait only the default depth.
    const misspelt = await h.request('PATCH', '/v1/merchant', {
      token: fx.token,
      body: {
        policy: { confirmation_tiers: { 'bitcoin-mainnet': [{ max_value: null, confirmations: 6 }] } },
      },
    });
    expectError(misspelt, { status: 422, path: 'policy.confirmation_tiers.bitcoin-mainnet' });
    const merchant = await h.request('GET', '/v1/merchant', { token: fx.token });
    expect(merchant.body.policy).toMatchObject({
      value_currency: 'USD',
      zero_conf_max_value: null,
      confirmation_tiers: {},
    });
  });

  it('left no half-written record behind', async () => {
    for (const t of counted) expect(await countRows(h.tally, t), t).toBe(counts[t]);
    expect(await snapshot(h.tally)).toEqual(before);
  });

  // After the snapshot check: these are meant to write.
  it('still accepts what is merely unusual: astral-plane and accented text, a BOM, a body at the limit', async () => {
    const res = await h.request('POST', '/v1/invoices', {
      token: fx.token,
      body: {
        price: { amount: '5.00', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        description: 'Tasse ☕ für Zoë 😀 — 東京',
        metadata: { note: 'line\nbreak\ttab' },
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.description).toBe('Tasse ☕ für Zoë 😀 — 東京');
    const got = await h.request('GET', `/v1/invoices/${res.body.id}`, { token: fx.token });
    expect(got.body.description).toBe('Tasse ☕ für Zoë 😀 — 東京');
    const bom = await h.app.server.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { authorization: `Bearer ${fx.token}`, 'content-type': 'application/json' },
      payload: Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(JSON.stringify({ email: 'bom@example.com', role: 'support' })),
      ]),
    });
    expect(bom.statusCode).toBe(201);
    const padded = `{"name":"Padded","scopes":["invoices:read"]${' '.repeat(BODY_LIMIT - 44)}}`;
    expect(Buffer.byteLength(padded)).toBe(BODY_LIMIT);
    const atLimit = await h.request('POST', '/v1/api-keys', { token: fx.token, rawBody: padded });
    expect(atLimit.status).toBe(201);
  });

  // Runs last: while the bug it exposes is open, it writes the invoice the check above looks for.
  it('refuses a price whose converted amount would exceed uint256, never a 5xx or a stored invoice', async () => {
    // 10^70 USD at 3200 USD/ETH is ~3·10^84 wei: above uint256 and NUMERIC(78,0), though the price parses.
    const invoicesBefore = await countRows(h.tally, 'invoices');
    const res = await h.request('POST', '/v1/invoices', {
      token: fx.token,
      body: {
        price: { amount: '9'.repeat(70), currency: 'USD' },
        payment_options: [{ asset: 'ETH', network: 'ethereum' }],
      },
    });
    expectError(res, { status: 422, path: 'price.amount' });
    expect(await countRows(h.tally, 'invoices')).toBe(invoicesBefore);
  });
});
