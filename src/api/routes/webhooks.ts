import { type Static, Type } from '@sinclair/typebox';
import { validationError } from '../../core/errors.ts';
import { assertEventExists, getDelivery, listDeliveries } from '../../webhooks/delivery-queries.ts';
import {
  createEndpoint,
  listEndpoints,
  loadEndpoint,
  rotateSecret,
  sendTestEvent,
  serializeEndpoint,
  updateEndpoint,
} from '../../webhooks/endpoint-service.ts';
import { EVENT_TYPES } from '../../webhooks/event-catalogue.ts';
import { redeliver, replaySince } from '../../webhooks/redelivery.ts';
import { ref } from '../responses/index.ts';
import { defineRoute } from '../route.ts';
import { Cursor, IdParam, Limit } from '../schemas.ts';

const EventTypes = Type.Array(Type.Union([Type.Literal('*'), ...EVENT_TYPES.map((t) => Type.Literal(t))]), {
  minItems: 1,
  maxItems: EVENT_TYPES.length + 1,
  uniqueItems: true,
  description: 'event types to receive, or ["*"] for all (the default)',
});
const WebhookUrl = Type.String({
  minLength: 1,
  maxLength: 2000,
  description: 'http(s) URL to POST events to',
});
const CreateBody = Type.Object(
  {
    url: WebhookUrl,
    events: Type.Optional(EventTypes),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const UpdateBody = Type.Object(
  {
    url: Type.Optional(WebhookUrl),
    events: Type.Optional(EventTypes),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
const RotateBody = Type.Object(
  {
    overlap_seconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 7 * 86_400,
        description: 'how long the old secret keeps signing beside the new one (default 86400)',
      }),
    ),
  },
  { additionalProperties: false },
);
const ReplayBody = Type.Object(
  { since: Type.String({ format: 'date-time', description: 'replay events created at or after this time' }) },
  { additionalProperties: false },
);
const DeliveryQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    starting_after: Type.Optional(Cursor),
    status: Type.Optional(
      Type.Union(['pending', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s))),
    ),
  },
  { additionalProperties: false },
);
type Id = { id: string };
type DQ = Static<typeof DeliveryQuery>;
const deliveryQuery = (q: DQ) => ({
  limit: Number(q.limit ?? 20),
  startingAfter: q.starting_after,
  status: q.status,
});

export const webhookRoutes = [
  defineRoute<unknown, unknown, Static<typeof CreateBody>>({
    method: 'POST',
    url: '/v1/webhook-endpoints',
    operationId: 'createWebhookEndpoint',
    summary: 'Register a webhook endpoint; its whsec_ signing secret is shown once',
    tag: 'webhooks',
    scope: 'webhooks:write',
    idempotent: true,
    successStatus: 201,
    body: CreateBody,
    response: ref('WebhookEndpointWithSecret'),
    handler: async (ctx, { body }) =>
      createEndpoint(ctx.tally, ctx.principal.merchantId, body, ctx.storeIdempotentResponse ?? undefined),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/webhook-endpoints',
    operationId: 'listWebhookEndpoints',
    summary: 'Webhook endpoints (never their secrets)',
    tag: 'webhooks',
    scope: 'webhooks:write',
    response: ref('WebhookEndpointList'),
    handler: async (ctx) => listEndpoints(ctx.tally, ctx.principal.merchantId),
  }),
  defineRoute<Id>({
    method: 'GET',
    url: '/v1/webhook-endpoints/:id',
    operationId: 'getWebhookEndpoint',
    summary: 'One webhook endpoint, with why it was disabled if it was',
    tag: 'webhooks',
    scope: 'webhooks:write',
    params: IdParam('whe'),
    response: ref('WebhookEndpoint'),
    handler: async (ctx, { params }) =>
      serializeEndpoint(await loadEndpoint(ctx.tally, ctx.principal.merchantId, params.id)),
  }),
  defineRoute<Id, unknown, Static<typeof UpdateBody>>({
    method: 'PATCH',
    url: '/v1/webhook-endpoints/:id',
    operationId: 'updateWebhookEndpoint',
    summary: 'Change URL, event filter, description, or enable/disable (re-enabling clears the failure run)',
    tag: 'webhooks',
    scope: 'webhooks:write',
    params: IdParam('whe'),
    body: UpdateBody,
    response: ref('WebhookEndpoint'),
    handler: async (ctx, { params, body }) =>
      updateEndpoint(ctx.tally, ctx.principal.merchantId, params.id, body),
  }),
  defineRoute<Id, unknown, Static<typeof RotateBody>>({
    method: 'POST',
    url: '/v1/webhook-endpoints/:id/rotate-secret',
    operationId: 'rotateWebhookSecret',
    summary: 'New signing secret (shown once); the old one keeps signing beside it for the overlap',
    tag: 'webhooks',
    scope: 'webhooks:write',
    params: IdParam('whe'),
    body: RotateBody,
    response: ref('WebhookEndpointWithSecret'),
    handler: async (ctx, { params, body }) =>
      rotateSecret(ctx.tally, ctx.principal.merchantId, params.id, body.overlap_seconds ?? 86_400),
  }),
  defineRoute<Id>({
    method: 'POST',
    url: '/v1/webhook-endpoints/:id/test',
    operationId: 'sendWebhookTest',
    summary: 'Send a webhook.test event to this endpoint only',
    tag: 'webhooks',
    scope: 'webhooks:write',
    params: IdParam('whe'),
    response: ref('WebhookTest'),
    handler: async (ctx, { params }) => sendTestEvent(ctx.tally, ctx.principal.merchantId, params.id),
  }),
  defineRoute<Id, unknown, Static<typeof ReplayBody>>({
    method: 'POST',
    url: '/v1/webhook-endpoints/:id/replay',
    operationId: 'replayWebhookEvents',
    summary: 'Deliver again every subscribed event created since a time (at most 10,000)',
    tag: 'webhooks',
    scope: 'webhooks:write',
    params: IdParam('whe'),
    body: ReplayBody,
    response: ref('WebhookReplay'),
    handler: async (ctx, { params, body }) => {
      const since = new Date(body.since);
      if (Number.isNaN(since.getTime()))
        throw validationError([{ path: 'since', message: 'is not a valid time' }]);
      return replaySince(ctx.tally, ctx.principal.merchantId, params.id, since);
    },
  }),
  defineRoute<Id, DQ>({
    method: 'GET',
    url: '/v1/webhook-endpoints/:id/deliveries',
    operationId: 'listEndpointDeliveries',
    summary: "An endpoint's deliveries, newest first",
    tag: 'webhooks',
    scope: 'webhooks:write',
    params: IdParam('whe'),
    querystring: DeliveryQuery,
    response: ref('DeliveryList'),
    handler: async (ctx, { params, query }) => {
      await loadEndpoint(ctx.tally, ctx.principal.merchantId, params.id);
      return listDeliveries(
        ctx.tally,
        ctx.principal.merchantId,
        { endpointId: params.id },
        deliveryQuery(query),
      );
    },
  }),
  defineRoute<Id, DQ>({
    method: 'GET',
    url: '/v1/events/:id/deliveries',
    operationId: 'listEventDeliveries',
    summary: "An event's deliveries to each endpoint, newest first",
    tag: 'webhooks',
    scope: 'webhooks:write',
    params: IdParam('evt'),
    querystring: DeliveryQuery,
    response: ref('DeliveryList'),
    handler: async (ctx, { params, query }) => {
      await assertEventExists(ctx.tally, ctx.principal.merchantId, params.id);
      return listDeliveries(
        ctx.tally,
        ctx.principal.merchantId,
        { eventId: params.id },
        deliveryQuery(query),
      );
    },
  }),
  defineRoute<Id>({
    method: 'GET',
    url: '/v1/webhook-deliveries/:id',
    operationId: 'getWebhookDelivery',
    summary: 'One delivery with every attempt: time, status, latency, truncated response body',
    tag: 'webhooks',
    scope: 'webhooks:write',
    params: IdParam('whd'),
    response: ref('DeliveryWithAttempts'),
    handler: async (ctx, { params }) => getDelivery(ctx.tally, ctx.principal.merchantId, params.id),
  }),
  defineRoute<Id>({
    method: 'POST',
    url: '/v1/webhook-deliveries/:id/redeliver',
    operationId: 'redeliverWebhook',
    summary: 'Send one delivery again now (same webhook-id)',
    tag: 'webhooks',
    scope: 'webhooks:write',
    params: IdParam('whd'),
    response: ref('DeliveryWithAttempts'),
    handler: async (ctx, { params }) => redeliver(ctx.tally, ctx.principal.merchantId, params.id),
  }),
];
