import { KindGuard, type TSchema } from '@sinclair/typebox';
import { ERROR_CATALOGUE } from '../core/errors.ts';
import { IDEMPOTENCY_KEY_PATTERN } from './idempotency.ts';
import { RESPONSE_COMPONENTS } from './responses/index.ts';
import type { RouteDef } from './route.ts';
import { ErrorBody } from './schemas.ts';

/** Fastify's ":id" → OpenAPI's "{id}". */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z_]+)/g, '{$1}');
}

function strip(schema: unknown): unknown {
  // TypeBox adds symbol keys only; JSON round-trip leaves plain JSON Schema.
  return JSON.parse(JSON.stringify(schema));
}

/** The success response's `content`: JSON unless the route names its media types. */
function successContent(response: RouteDef['response']): Record<string, { schema: unknown }> {
  // Undocumented: an honest "some object" rather than nothing (the drift test lists these).
  if (!response) return { 'application/json': { schema: { type: 'object' } } };
  const byType: Record<string, TSchema> = KindGuard.IsSchema(response)
    ? { 'application/json': response }
    : response.content;
  return Object.fromEntries(
    Object.entries(byType).map(([type, schema]) => [type, { schema: strip(schema) }]),
  );
}

/** OpenAPI 3.1 generated from the same route definitions and schemas that validate requests. */
export function buildOpenApi(routes: RouteDef[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.url);
    const parameters: unknown[] = [];
    for (const [location, schema] of [
      ['path', route.params],
      ['query', route.querystring],
    ] as const) {
      const props =
        (schema as { properties?: Record<string, unknown>; required?: string[] } | undefined)?.properties ??
        {};
      const required = (schema as { required?: string[] } | undefined)?.required ?? [];
      for (const [name, s] of Object.entries(props)) {
        parameters.push({
          name,
          in: location,
          required: location === 'path' || required.includes(name),
          schema: strip(s),
        });
      }
    }
    if (route.idempotent) {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        schema: { type: 'string', minLength: 1, maxLength: 255, pattern: IDEMPOTENCY_KEY_PATTERN },
        description:
          'Replays the stored response for a repeated key; 422 if the body differs; 409 while in flight.',
      });
    }
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      parameters,
      responses: {
        [String(route.successStatus ?? 200)]: {
          description: 'Success',
          content: successContent(route.response),
        },
        default: {
          description: 'Error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
    if (route.scope) operation.security = [{ apiKey: [] }];
    if (route.scope) operation['x-required-scope'] = route.scope;
    if (route.body)
      operation.requestBody = {
        required: !route.bodyOptional,
        content: { 'application/json': { schema: strip(route.body) } },
      };
    paths[path] = { ...(paths[path] ?? {}), [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tally API',
      version: '1',
      description: 'Self-hosted, non-custodial crypto payment gateway.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'tally_sk_… API key' } },
      schemas: {
        Error: strip(ErrorBody),
        ...Object.fromEntries(Object.entries(RESPONSE_COMPONENTS).map(([name, s]) => [name, strip(s)])),
      },
      'x-error-codes': Object.fromEntries(
        Object.entries(ERROR_CATALOGUE).map(([code, v]) => [code, v.status]),
      ),
    },
  };
}
