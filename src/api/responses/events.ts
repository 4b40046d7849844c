import { Type } from '@sinclair/typebox';
import { EVENT_TYPES } from '../../webhooks/event-catalogue.ts';
import { DateTime, Id, Literals, Nullable, Ref } from './common.ts';

/**
 * An event as stored and delivered: `{id, type, created, data}` (src/invoices/effect-rows.ts
 * eventRow). `data` depends on the type (docs/events.md); its known members are described, and it
 * stays open because non-invoice events (webhook.test, wallet.gap_warning, webhook_endpoint.disabled)
 * carry their own small payloads.
 */
export const Event = Type.Object({
  id: Id('evt'),
  type: Literals(EVENT_TYPES),
  created: DateTime,
  data: Type.Object(
    {
      invoice: Type.Optional(Ref('Invoice')),
      payment: Type.Optional(Ref('Payment')),
      exception: Type.Optional(Nullable(Ref('Exception'))),
      refund: Type.Optional(Ref('Refund')),
      transition: Type.Optional(
        Type.Object({
          from: Type.String(),
          to: Type.String(),
          cause: Type.String(),
          reason: Nullable(Type.String()),
        }),
      ),
    },
    { additionalProperties: true },
  ),
});
