import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.ts';
import { readIdempotencyKey } from '../../src/api/idempotency.ts';
import { buildOpenApi, openApiPath } from '../../src/api/openapi.ts';
import { defineRoute, type RouteDef } from '../../src/api/route.ts';
import { ALL_ROUTES } from '../../src/api/routes/index.ts';
import { ERROR_CATALOGUE } from '../../src/core/errors.ts';
import { freshSqlite } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { expectError, schemaAccepts, validBodyFor } from './route-fixtures.ts';

/**
 * /openapi.json is generated from the same route definitions that validate requests. These tests
 * hold it to that: the spec's operations are exactly the server's routes (both ways), and the
 * schemas it publishes are the ones Fastify validates with.
 */

type Spec = ReturnType<typeof buildOpenApi>;
type Operation = {
  operationId: string;
  parameters: Array<{ name: string; in: string; required: boolean; schema: unknown }>;
  requestBody?: { required: boolean; content: { 'application/json': { schema: unknown } } };
  responses: Record<string, unknown>;
  security?: unknown;
  'x-required-scope'?: string;
};

/** Routes the server answers on purpose without describing them in the API spec (operations endpoints). */
const UNDOCUMENTED = new Set(['GET /openapi.json', 'GET /healthz', 'GET /readyz', 'GET /metrics']);
/** The HTML checkout, customer refund page and dashboard (src/web/): pages for people, not API operations. */
const WEB_UI = /^(GET|POST) \/(pay|refund|dashboard|assets)(\/|$)/;

/** "POST /v1/invoices/{id}/cancel" for every operation in a spec. */
function specOperations(spec: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(spec.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
  );
}

function routeOperations(routes: RouteDef[]): string[] {
  return routes.map((r) => `${r.method} ${openApiPath(r.url)}`);
}

/** Every method+path the Fastify server has registered, read from its router (HEAD twins left out). */
function registeredOperations(server: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of server.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    stack.length = (m[1] ?? '').length / 4;
    stack.push(m[2] ?? '');
    for (const method of m[3]?.split(', ') ?? []) {
      if (method !== 'HEAD') out.push(`${method} ${openApiPath(stack.join(''))}`);
    }
  }
  return out;
}

/** What one side has that the other lacks. Empty both ways = the spec and the server agree. */
function compareOperations(
  documented: string[],
  served: string[],
): { undocumented: string[]; notServed: string[] } {
  const doc = new Set(documented);
  const srv = new Set(served);
  return {
    undocumented: [...srv].filter((op) => !doc.has(op) && !UNDOCUMENTED.has(op) && !WEB_UI.test(op)).sort(),
    notServed: [...doc].filter((op) => !srv.has(op)).sort(),
  };
}

const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe('OpenAPI document', () => {
  let h: Harness;
  let spec: Spec;
  /** The schema object Fastify holds for each route, as seen by a request to it. */
  const validated = new Map<string, Record<string, unknown>>();
  let served: FastifyInstance;

  beforeAll(async () => {
    h = await createHarness(await freshSqlite());
    const res = await h.request('GET', '/openapi.json', { token: null });
    expect(res.status).toBe(200);
    spec = res.body;

    // A second app on the same Tally, with a hook (before ready) that records each route's schemas.
    const app = buildApp(h.tally, { logger: false });
    served = app.server;
    served.addHook('onRequest', async (request) => {
      validated.set(
        `${request.method} ${request.routeOptions.url}`,
        (request.routeOptions.schema ?? {}) as Record<string, unknown>,
      );
    });
    for (const route of ALL_ROUTES) {
      await served.inject({ method: route.method, url: route.url.replace(':id', 'x') });
    }
  });
  afterAll(async () => {
    await served?.close();
    await h?.close();
  });

  it('is OpenAPI 3.1.0 served as JSON without an API key', async () => {
    const res = await h.app.server.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.info.title).toBe('Tally API');
    expect(Object.keys(spec.paths).length).toBeGreaterThan(5);
    expect(spec.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('documents every route in ALL_ROUTES and nothing else', () => {
    expect(compareOperations(specOperations(spec), routeOperations(ALL_ROUTES))).toEqual({
      undocumented: [],
      notServed: [],
    });
    expect(specOperations(spec)).toHaveLength(ALL_ROUTES.length);
  });

  it('documents exactly the routes the Fastify server registered, both ways', () => {
    const registered = registeredOperations(h.app.server);
    expect(registered.length).toBeGreaterThanOrEqual(ALL_ROUTES.length + UNDOCUMENTED.size);
    expect(compareOperations(specOperations(spec), registered)).toEqual({ undocumented: [], notServed: [] });
    for (const op of UNDOCUMENTED) expect(registered).toContain(op);
    // The router agrees with the parsed listing, operation by operation.
    for (const op of specOperations(spec)) {
      const [method, path] = op.split(' ') as [RouteDef['method'], string];
      expect(h.app.server.hasRoute({ method, url: path.replace(/\{(\w+)\}/g, ':$1') }), op).toBe(true);
    }
  });

  it('reports a route added to ALL_ROUTES without a spec entry, and a spec entry without a route', () => {
    const fake = defineRoute({
      method: 'POST',
      url: '/v1/invoices/:id/refund',
      operationId: 'refundInvoice',
      summary: 'fake',
      tag: 'invoices',
      scope: 'admin',
      handler: async () => ({}),
    });
    const served = [...registeredOperations(h.app.server), 'DELETE /v1/secret-debug'];
    expect(compareOperations(specOperations(spec), served)).toEqual({
      undocumented: ['DELETE /v1/secret-debug'],
      notServed: [],
    });
    expect(
      compareOperations(
        specOperations(buildOpenApi([...ALL_ROUTES, fake])),
        registeredOperations(h.app.server),
      ),
    ).toEqual({ undocumented: [], notServed: ['POST /v1/invoices/{id}/refund'] });
    expect(compareOperations(specOperations(spec), routeOperations([...ALL_ROUTES, fake]))).toEqual({
      undocumented: ['POST /v1/invoices/{id}/refund'],
      notServed: [],
    });
  });

  it('notices a route registered on the server directly, outside ALL_ROUTES', async () => {
    const app = buildApp(h.tally, { logger: false });
    app.server.get('/v1/debug/state', async () => ({}));
    await app.server.ready();
    try {
      expect(compareOperations(specOperations(spec), registeredOperations(app.server)).undocumented).toEqual([
        'GET /v1/debug/state',
      ]);
    } finally {
      await app.server.close();
    }
  });

  it('publishes the request schemas Fastify validates with', () => {
    expect(validated.size).toBe(ALL_ROUTES.length);
    for (const route of ALL_ROUTES) {
      const schema = validated.get(`${route.method} ${route.url}`);
      expect(schema, `${route.method} ${route.url} was not reached`).toBeDefined();
      const op = spec.paths[openApiPath(route.url)]?.[route.method.toLowerCase()] as Operation | undefined;
      if (!op || !schema) throw new Error(`${route.method} ${route.url}: missing`);
      if (schema.body) {
        // Required unless the route takes no body as {} (its fields are all optional).
        expect(op.requestBody?.required).toBe(!route.bodyOptional);
        expect(op.requestBody?.content['application/json'].schema).toEqual(json(schema.body));
      } else {
        expect(op.requestBody).toBeUndefined();
      }
      for (const [location, part] of [
        ['path', 'params'],
        ['query', 'querystring'],
      ] as const) {
        const s = schema[part] as { properties?: Record<string, unknown>; required?: string[] } | undefined;
        const published = op.parameters.filter((p) => p.in === location);
        expect(published.map((p) => p.name).sort(), `${route.url} ${location}`).toEqual(
          Object.keys(s?.properties ?? {}).sort(),
        );
        for (const p of published) {
          expect(p.schema).toEqual(json(s?.properties?.[p.name]));
          expect(p.required).toBe(location === 'path' || (s?.required ?? []).includes(p.name));
        }
      }
    }
  });

  it('has a spec body schema that accepts and refuses what the server accepts and refuses', async () => {
    for (const route of ALL_ROUTES.filter((r) => r.body)) {
      const op = spec.paths[openApiPath(route.url)]?.[route.method.toLowerCase()] as Operation;
      const published = op.requestBody?.content['application/json'].schema;
      const body = validBodyFor(route);
      expect(schemaAccepts(published, body), route.operationId).toBe(true);
      const wrong = { ...body, unexpected_field: 1 };
      expect(schemaAccepts(published, wrong), route.operationId).toBe(false);
      const res = await h.request(route.method, route.url.replace(':id', 'inv_00000000000000000000000000'), {
        body: wrong,
      });
      expect(res.status, route.operationId).toBeLessThan(500);
      if (!route.params) expectError(res, { status: 422, path: 'unexpected_field' });
    }
  });

  it('describes each operation: id, scope, security, idempotency, path parameters, success status', () => {
    const ids = new Set<string>();
    for (const route of ALL_ROUTES) {
      const op = spec.paths[openApiPath(route.url)]?.[route.method.toLowerCase()] as Operation;
      expect(op.operationId).toBe(route.operationId);
      expect(ids.has(op.operationId), `duplicate operationId ${op.operationId}`).toBe(false);
      ids.add(op.operationId);
      expect(op['x-required-scope']).toBe(route.scope ?? undefined);
      expect(Boolean(op.security)).toBe(route.scope !== null);
      expect(op.parameters.some((p) => p.in === 'header' && p.name === 'Idempotency-Key')).toBe(
        route.idempotent === true,
      );
      for (const [, name] of openApiPath(route.url).matchAll(/\{(\w+)\}/g)) {
        expect(op.parameters.some((p) => p.in === 'path' && p.name === name && p.required)).toBe(true);
      }
      expect(Object.keys(op.responses)).toContain(String(route.successStatus ?? 200));
      expect(Object.keys(op.responses)).toContain('default');
    }
  });

  it('publishes an Idempotency-Key schema that accepts exactly the keys the server accepts', () => {
    const op = spec.paths['/v1/invoices']?.post as Operation;
    const header = op.parameters.find((p) => p.in === 'header' && p.name === 'Idempotency-Key');
    const samples = [
      'order-1',
      'a',
      '!~',
      'k'.repeat(255),
      'k'.repeat(256),
      '',
      'has space',
      'tab\t',
      'clé',
      'ü',
    ];
    for (const key of samples) {
      let served = true;
      try {
        readIdempotencyKey(key);
      } catch {
        served = false;
      }
      expect(schemaAccepts(header?.schema, key), JSON.stringify(key)).toBe(served);
    }
  });

  it('lists every error code with its status', () => {
    expect(spec.components['x-error-codes']).toEqual(
      Object.fromEntries(Object.entries(ERROR_CATALOGUE).map(([code, v]) => [code, v.status])),
    );
  });
});
