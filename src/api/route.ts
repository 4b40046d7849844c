import type { TSchema } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Insertable, Transaction } from 'kysely';
import type { ApiKeyPrincipal } from '../auth/api-keys.ts';
import type { ApiScope } from '../auth/scopes.ts';
import type { Tally } from '../context.ts';
import type { IdempotencyKeysTable, Schema } from '../db/schema.ts';

export interface RouteContext {
  tally: Tally;
  principal: ApiKeyPrincipal;
  request: FastifyRequest;
  reply: FastifyReply;
  /**
   * On idempotent routes with an Idempotency-Key: a handler that writes calls this inside its own
   * transaction so the stored response commits with the resource. Otherwise the app stores it after.
   */
  storeIdempotentResponse: ((trx: Transaction<Schema>, body: unknown) => Promise<void>) | null;
  /**
   * The same, as the row to insert, for a handler whose writer sends precompiled statements
   * (pipelined-invoice-write.ts). Asking for the row promises to commit it with the resource.
   */
  idempotentResponseRow: ((body: unknown) => Insertable<IdempotencyKeysTable>) | null;
}

/**
 * One route: its schemas validate requests AND generate /openapi.json, so the spec cannot
 * describe a request the server would treat differently.
 */
export interface RouteDef {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  operationId: string;
  summary: string;
  tag: string;
  /** null = public (no API key). */
  scope: ApiScope | null;
  idempotent?: boolean;
  successStatus?: number;
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
  /** A request without a body is taken as `{}`: for a body whose every field is optional. */
  bodyOptional?: boolean;
  /**
   * The success body, for /openapi.json only. Deliberately not Fastify's `schema.response`: its
   * serializer would silently drop any field the schema forgot. test/api/openapi-responses.test.ts
   * checks real responses against it instead. `{ content }` for a route answering more than JSON
   * (the settlement report's CSV), by media type.
   */
  response?: TSchema | { content: Record<string, TSchema> };
  handler(ctx: RouteContext, input: { params: never; query: never; body: never }): Promise<unknown>;
}

/** Typed helper: keeps each route's handler input typed by its own schemas. */
export function defineRoute<P = unknown, Q = unknown, B = unknown>(
  def: Omit<RouteDef, 'handler'> & {
    handler(ctx: RouteContext, input: { params: P; query: Q; body: B }): Promise<unknown>;
  },
): RouteDef {
  return def as unknown as RouteDef;
}
