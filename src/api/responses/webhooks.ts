import { Type } from '@sinclair/typebox';
import { DateTime, Id, Nullable, Ref } from './common.ts';

/** src/webhooks/endpoint-service.ts and delivery-queries.ts. Secrets appear only where shown once. */

export const WebhookEndpoint = Type.Object({
  id: Id('whe'),
  object: Type.Literal('webhook_endpoint'),
  url: Type.String(),
  description: Nullable(Type.String()),
  events: Type.Array(Type.String(), { description: 'event types, or ["*"] for all' }),
  enabled: Type.Boolean(),
  disabled_reason: Nullable(Type.String()),
  disabled_at: Nullable(DateTime),
  failing_since: Nullable(DateTime),
  previous_secret_expires_at: Nullable(DateTime),
  created_at: Nullable(DateTime),
  updated_at: Nullable(DateTime),
});

/** Creation and rotation: the endpoint with its whsec_ signing secret, shown this once. */
export const WebhookEndpointWithSecret = Type.Composite([
  WebhookEndpoint,
  Type.Object({ secret: Type.String({ pattern: '^whsec_', description: 'shown once' }) }),
]);

const DeliveryStatus = Type.Union(
  ['pending', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s)),
);

export const Delivery = Type.Object({
  id: Id('whd'),
  object: Type.Literal('webhook_delivery'),
  endpoint_id: Id('whe'),
  event_id: Id('evt'),
  status: DeliveryStatus,
  attempts: Type.Integer({ minimum: 0 }),
  next_attempt_at: Nullable(DateTime),
  last_status_code: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  delivered_at: Nullable(DateTime),
  created_at: Nullable(DateTime),
  updated_at: Nullable(DateTime),
});

export const DeliveryAttempt = Type.Object({
  id: Type.String(),
  attempt: Type.Integer({ minimum: 1 }),
  started_at: Nullable(DateTime),
  webhook_timestamp: Type.Integer({ description: 'the webhook-timestamp header sent (Unix seconds)' }),
  outcome: Type.Union(
    ['succeeded', 'http_error', 'timeout', 'network_error', 'refused'].map((s) => Type.Literal(s)),
  ),
  status_code: Nullable(Type.Integer()),
  latency_ms: Type.Integer({ minimum: 0 }),
  response_body: Nullable(Type.String({ description: 'truncated' })),
  error: Nullable(Type.String()),
});

export const DeliveryWithAttempts = Type.Composite([
  Delivery,
  Type.Object({ attempt_log: Type.Array(Ref('DeliveryAttempt')) }),
]);

export const WebhookTest = Type.Object({
  object: Type.Literal('webhook_test'),
  event_id: Id('evt'),
  delivery_id: Id('whd'),
});

export const WebhookReplay = Type.Object({
  object: Type.Literal('webhook_replay'),
  endpoint_id: Id('whe'),
  since: DateTime,
  scheduled: Type.Integer({ minimum: 0, description: 'deliveries (re)scheduled' }),
});
