import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { authenticate } from '../auth/api-keys.ts';
import { hasScope } from '../auth/scopes.ts';
import type { ChainStatus } from '../chains/chain-status.ts';
import type { Tally } from '../context.ts';
import { TallyError, validationError } from '../core/errors.ts';
import { registerWeb } from '../web/register.ts';
import { registerChainMetrics } from './chain-metrics.ts';
import { mapError } from './error-mapper.ts';
import {
  readIdempotencyKey,
  requestHash,
  responseRow,
  storeResponse,
  withIdempotency,
} from './idempotency.ts';
import { badStringReason, decodeJsonBytes, parseJsonBody } from './json-body.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { buildOpenApi } from './openapi.ts';
import type { RouteContext, RouteDef } from './route.ts';
import { ALL_ROUTES } from './routes/index.ts';
import { registerWalletMetrics } from './wallet-metrics.ts';
import { registerWebhookMetrics } from './webhook-metrics.ts';

export interface App {
  server: FastifyInstance;
  routes: RouteDef[];
  metrics: Metrics;
}

/** Builds the HTTP app around a Tally context. Tests drive it in-process with `server.inject`. */
export function buildApp(tally: Tally, options: { logger?: boolean } = {}): App {
  // Logger off in tests that count on a quiet output; the instance type stays the plain HTTP/1 one.
  const server = Fastify({
    // Per-request access logs would cost more than the request; warnings and errors still log.
    ...(options.logger === false
      ? {}
      : { loggerInstance: tally.log.child({}, { level: 'warn' }) as FastifyBaseLogger }),
    bodyLimit: 1024 * 1024,
    ajv: {
      customOptions: {
        coerceTypes: false,
        removeAdditional: false,
        allErrors: false,
        useDefaults: false,
        verbose: true,
      },
    },
    // Bad percent-encoding or an over-long path parameter: answer in our error shape, not Fastify's.
    frameworkErrors: (error, request, reply) =>
      mapError(
        error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? validationError([
              { path: 'url', message: 'has invalid percent-encoding or an over-long segment' },
            ])
          : error,
        request,
        reply,
      ),
  });
  const metrics = createMetrics();

  server.removeAllContentTypeParsers();
  server.addContentTypeParser(['application/json'], { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(decodeJsonBytes(body as Buffer)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  server.setErrorHandler((error, request, reply) => mapError(error, request, reply));
  server.setNotFoundHandler((request, reply) =>
    mapError(
      new TallyError('route_not_found', `No route ${request.method} ${request.url.split('?')[0]}.`),
      request,
      reply,
    ),
  );
  server.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.duration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });

  for (const route of ALL_ROUTES) {
    const schema: Record<string, unknown> = {};
    if (route.params) schema.params = route.params;
    // A route that takes no query parameters refuses any (422 naming it), as routes with a query
    // schema refuse unknown ones: `?limit=2` on a list without paging must not look obeyed.
    schema.querystring = route.querystring ?? NO_QUERY;
    if (route.body) schema.body = route.body;
    server.route({
      method: route.method,
      url: route.url,
      schema,
      preValidation: async (request) => {
        rejectBadStrings(request.params, request.query);
        if (route.bodyOptional && request.body === undefined) request.body = {};
      },
      handler: async (request, reply) => {
        const principal = route.scope
          ? await authenticate(tally.database.read, bearer(request.headers.authorization))
          : { keyId: '', merchantId: '', scopes: [] };
        if (route.scope && !hasScope(principal.scopes, route.scope)) {
          throw new TallyError('forbidden', `This API key lacks the "${route.scope}" scope.`);
        }
        if (
          route.method !== 'GET' &&
          route.body === undefined &&
          request.body !== undefined &&
          request.body !== null
        ) {
          const empty =
            typeof request.body === 'object' &&
            !Array.isArray(request.body) &&
            Object.keys(request.body as object).length === 0;
          if (!empty)
            throw new TallyError('validation_failed', 'This route takes no body.', {
              issues: [{ path: 'body', message: 'must be empty' }],
            });
        }
        const status = route.successStatus ?? 200;
        const input = {
          params: request.params as never,
          query: request.query as never,
          body: request.body as never,
        };
        const key = route.idempotent ? readIdempotencyKey(request.headers['idempotency-key']) : null;
        const ctx: RouteContext = {
          tally,
          principal,
          request,
          reply,
          storeIdempotentResponse: null,
          idempotentResponseRow: null,
        };
        if (!key) return reply.status(status).send(await route.handler(ctx, input));

        const hash = requestHash(route.method, request.url, request.body);
        const result = await withIdempotency(tally.database, principal.merchantId, key, hash, async () => {
          let stored = false;
          ctx.storeIdempotentResponse = async (trx, body) => {
            await storeResponse(trx, principal.merchantId, key, hash, { status, body }, tally.clock.now());
            stored = true;
          };
          ctx.idempotentResponseRow = (body) => {
            stored = true;
            return responseRow(principal.merchantId, key, hash, { status, body }, tally.clock.now());
          };
          const body = await route.handler(ctx, input);
          if (!stored) {
            await tally.database.write((trx) =>
              storeResponse(trx, principal.merchantId, key, hash, { status, body }, tally.clock.now()),
            );
          }
          return { status, body };
        });
        if (result.replayed) reply.header('idempotent-replayed', 'true');
        return reply.status(result.status).send(result.body);
      },
    });
  }

  // The hosted checkout (/pay/…) and the dashboard (/dashboard/…): src/web/.
  registerWeb(server, tally);
  server.get('/openapi.json', async () => buildOpenApi(ALL_ROUTES));
  server.get('/healthz', async () => ({ status: 'ok' }));
  server.get('/readyz', async (_request, reply) => {
    try {
      await tally.database.db.selectFrom('merchants').select('id').limit(1).execute();
    } catch {
      return reply
        .status(503)
        .send({ error: { code: 'service_unavailable', message: 'The database is not reachable.' } });
    }
    // A lagging or unreachable node does not take the API down (invoices can still be created and
    // read); it shows here as "degraded", and no chain fact moves an invoice until it recovers.
    const chains = tally.chainHealth.statuses().map(chainReadiness);
    const degraded = chains.some((c) => c.state !== 'synced');
    return { status: degraded ? 'degraded' : 'ready', database: tally.database.dialect, chains };
  });
  registerChainMetrics(metrics.registry, () => tally.chainHealth.statuses());
  registerWalletMetrics(metrics.registry, () => tally.database.read);
  registerWebhookMetrics(metrics.registry, tally, () => tally.database.read);
  server.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  return { server, routes: ALL_ROUTES, metrics };
}

function chainReadiness(s: ChainStatus) {
  const state =
    s.lastError !== null ? 'error' : s.syncing ? 'node_syncing' : s.caughtUp ? 'synced' : 'catching_up';
  return {
    network: s.network,
    state,
    node_height: s.nodeHeight,
    cursor_height: s.cursorHeight,
    lag_blocks: s.nodeHeight === null || s.cursorHeight === null ? null : s.nodeHeight - s.cursorHeight,
    last_synced_at: s.lastSyncedAt?.toISOString() ?? null,
    last_error: s.lastError,
    watched_addresses: s.watchedAddresses,
  };
}

/** The query schema of a route that takes no query parameters. */
const NO_QUERY = Type.Object({}, { additionalProperties: false });

/** NUL or unpaired surrogates in a path or query value would fail in the database, not here. */
function rejectBadStrings(params: unknown, query: unknown): void {
  for (const [context, values] of [
    ['params', params],
    ['querystring', query],
  ] as const) {
    if (!values || typeof values !== 'object') continue;
    for (const [name, value] of Object.entries(values)) {
      for (const v of Array.isArray(value) ? value : [value]) {
        const reason = typeof v === 'string' ? badStringReason(v) : null;
        if (reason) throw validationError([{ path: `${context}.${name}`, message: reason }]);
      }
    }
  }
}

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer (\S+)$/i.exec(header);
  return match?.[1];
}
