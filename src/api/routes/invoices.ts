import { type Static, Type } from '@sinclair/typebox';
import { type CreateInvoiceInput, createInvoice } from '../../invoices/create-invoice.ts';
import { cancelInvoice, operatorAction, reportFulfilment } from '../../invoices/invoice-actions.ts';
import { getInvoice, listInvoices, listTransitions } from '../../invoices/invoice-queries.ts';
import { INVOICE_STATUSES } from '../../invoices/types.ts';
import { EVENT_TYPES } from '../../webhooks/event-catalogue.ts';
import { listFeed, listInvoiceFeed } from '../../webhooks/event-feed.ts';
import { ref } from '../responses/index.ts';
import { defineRoute } from '../route.ts';
import { CreateInvoiceBody, Cursor, IdParam, Limit, Reason } from '../schemas.ts';

const InvoiceId = IdParam('inv');
type IdP = Static<typeof InvoiceId>;
const actorOf = (keyId: string) => ({ kind: 'api_key' as const, id: keyId });

const ListQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    starting_after: Type.Optional(Cursor),
    status: Type.Optional(Type.Union(INVOICE_STATUSES.map((s) => Type.Literal(s)))),
    merchant_order_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    customer_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
const EventsQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    starting_after: Type.Optional(Cursor),
    // One of the catalogue's types, as webhook endpoints' filters: a misspelt type answers 422,
    // not an empty feed that looks like "no such events".
    type: Type.Optional(Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)))),
  },
  { additionalProperties: false },
);
const Timestamp = Type.String({ format: 'date-time', description: 'an RFC 3339 time' });
const FeedQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    starting_after: Type.Optional(Cursor),
    // One of the catalogue's types, as webhook endpoints' filters: a misspelt type answers 422,
    // not an empty feed that looks like "no such events".
    type: Type.Optional(Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)))),
    invoice_id: Type.Optional(Type.String({ pattern: '^inv_[0-9a-z]{26}$' })),
    created_gte: Type.Optional(Timestamp),
    created_lt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
const FulfilmentBody = Type.Object(
  {
    reference: Type.Optional(Type.String({ maxLength: 200 })),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
const ActionBody = Type.Object(
  { action: Type.Union([Type.Literal('mark_paid'), Type.Literal('mark_failed')]), reason: Reason },
  { additionalProperties: false },
);

export const invoiceRoutes = [
  defineRoute<unknown, unknown, Static<typeof CreateInvoiceBody>>({
    method: 'POST',
    url: '/v1/invoices',
    operationId: 'createInvoice',
    summary: 'Create an invoice (payment intent): assigns addresses, amounts, rates and expiry',
    tag: 'invoices',
    scope: 'invoices:write',
    idempotent: true,
    successStatus: 201,
    body: CreateInvoiceBody,
    response: ref('Invoice'),
    handler: async (ctx, { body }) =>
      createInvoice(
        ctx.tally,
        ctx.principal.merchantId,
        body as CreateInvoiceInput,
        ctx.storeIdempotentResponse && ctx.idempotentResponseRow
          ? { inTransaction: ctx.storeIdempotentResponse, row: ctx.idempotentResponseRow }
          : undefined,
      ),
  }),
  defineRoute<unknown, Static<typeof ListQuery>>({
    method: 'GET',
    url: '/v1/invoices',
    operationId: 'listInvoices',
    summary: 'List invoices, newest first (cursor pagination)',
    tag: 'invoices',
    scope: 'invoices:read',
    querystring: ListQuery,
    response: ref('InvoiceList'),
    handler: async (ctx, { query }) =>
      listInvoices(ctx.tally, ctx.principal.merchantId, {
        limit: Number(query.limit ?? 20),
        startingAfter: query.starting_after,
        status: query.status,
        merchantOrderId: query.merchant_order_id,
        customerId: query.customer_id,
      }),
  }),
  defineRoute<IdP>({
    method: 'GET',
    url: '/v1/invoices/:id',
    operationId: 'getInvoice',
    summary: 'Get an invoice with its options, payments and policy snapshot',
    tag: 'invoices',
    scope: 'invoices:read',
    params: InvoiceId,
    response: ref('Invoice'),
    handler: async (ctx, { params }) => getInvoice(ctx.tally, ctx.principal.merchantId, params.id),
  }),
  defineRoute<IdP>({
    method: 'POST',
    url: '/v1/invoices/:id/cancel',
    operationId: 'cancelInvoice',
    summary: 'Cancel an invoice nobody has paid yet',
    tag: 'invoices',
    scope: 'invoices:write',
    params: InvoiceId,
    response: ref('Invoice'),
    handler: async (ctx, { params }) =>
      cancelInvoice(ctx.tally, ctx.principal.merchantId, params.id, actorOf(ctx.principal.keyId)),
  }),
  defineRoute<IdP, unknown, Static<typeof FulfilmentBody>>({
    method: 'POST',
    url: '/v1/invoices/:id/fulfilment',
    operationId: 'reportFulfilment',
    summary: 'Report that the merchant fulfilled the order (paid invoices only)',
    tag: 'invoices',
    scope: 'invoices:write',
    params: InvoiceId,
    body: FulfilmentBody,
    bodyOptional: true,
    response: ref('Invoice'),
    handler: async (ctx, { params, body }) =>
      reportFulfilment(ctx.tally, ctx.principal.merchantId, params.id, body),
  }),
  defineRoute<IdP, unknown, Static<typeof ActionBody>>({
    method: 'POST',
    url: '/v1/invoices/:id/actions',
    operationId: 'invoiceOperatorAction',
    summary: 'Operator action with a written reason: mark_paid or mark_failed (admin scope)',
    tag: 'invoices',
    scope: 'admin',
    params: InvoiceId,
    body: ActionBody,
    response: ref('Invoice'),
    handler: async (ctx, { params, body }) =>
      operatorAction(
        ctx.tally,
        ctx.principal.merchantId,
        params.id,
        body.action,
        actorOf(ctx.principal.keyId),
        body.reason,
      ),
  }),
  defineRoute<IdP, Static<typeof EventsQuery>>({
    method: 'GET',
    url: '/v1/invoices/:id/events',
    operationId: 'listInvoiceEvents',
    summary: "An invoice's events, oldest first",
    tag: 'events',
    scope: 'invoices:read',
    params: InvoiceId,
    querystring: EventsQuery,
    response: ref('EventList'),
    handler: async (ctx, { params, query }) => {
      await getInvoice(ctx.tally, ctx.principal.merchantId, params.id);
      return listInvoiceFeed(ctx.tally, ctx.principal.merchantId, params.id, {
        limit: Number(query.limit ?? 100),
        startingAfter: query.starting_after,
        type: query.type,
      });
    },
  }),
  defineRoute<IdP>({
    method: 'GET',
    url: '/v1/invoices/:id/transitions',
    operationId: 'listInvoiceTransitions',
    summary: "An invoice's status transitions with their causes",
    tag: 'invoices',
    scope: 'invoices:read',
    params: InvoiceId,
    response: ref('TransitionList'),
    handler: async (ctx, { params }) => {
      await getInvoice(ctx.tally, ctx.principal.merchantId, params.id);
      return { object: 'list', data: await listTransitions(ctx.tally, ctx.principal.merchantId, params.id) };
    },
  }),
  defineRoute<unknown, Static<typeof FeedQuery>>({
    method: 'GET',
    url: '/v1/events',
    operationId: 'listEvents',
    summary:
      "The merchant's events in commit order, for receivers catching up (filters: type, invoice, time)",
    tag: 'events',
    scope: 'invoices:read',
    querystring: FeedQuery,
    response: ref('EventList'),
    handler: async (ctx, { query }) =>
      listFeed(ctx.tally, ctx.principal.merchantId, {
        limit: Number(query.limit ?? 100),
        startingAfter: query.starting_after,
        type: query.type,
        invoiceId: query.invoice_id,
        createdGte: query.created_gte,
        createdLt: query.created_lt,
      }),
  }),
];
