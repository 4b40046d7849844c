import { type Static, Type } from '@sinclair/typebox';
import { validationError } from '../../core/errors.ts';
import { queryTime } from '../../core/query-time.ts';
import { ledgerBalances } from '../../ledger/balances.ts';
import { verifyLedger } from '../../ledger/verify.ts';
import { buildRefundTransaction } from '../../refunds/build-refund-transaction.ts';
import { loadRefund, serializeRefund } from '../../refunds/refund-rows.ts';
import {
  approveRefund,
  cancelRefund,
  listRefunds,
  type RefundRequest,
  reportRefundTransaction,
  requestRefund,
  setRefundDestination,
} from '../../refunds/refund-service.ts';
import { reportStream, sqlitePathOf } from '../../settlement/report-format.ts';
import { ref } from '../responses/index.ts';
import { defineRoute } from '../route.ts';
import { Amount, Cursor, IdParam, Limit, Reason } from '../schemas.ts';

/** Refunds (non-custodial: Tally builds, the merchant signs) and the ledger (docs/decisions/0011). */
const InvoiceId = IdParam('inv');
const RefundId = IdParam('ref');
type IdP = { id: string };

const RefundBody = Type.Object(
  {
    kind: Type.Union([Type.Literal('full'), Type.Literal('partial'), Type.Literal('excess')]),
    amount: Type.Optional(Amount),
    destination: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    reason: Reason,
    customer_link: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const ApproveBody = Type.Object({ reason: Reason }, { additionalProperties: false });
const BuildBody = Type.Object(
  {
    fee_rate: Type.Optional(
      Type.String({
        pattern: '^[0-9]{1,6}(\\.[0-9]{1,3})?$',
        description: 'Bitcoin: sat/vB, e.g. "2" (default 2)',
      }),
    ),
  },
  { additionalProperties: false },
);
const TxHashBody = Type.Object(
  { txid: Type.String({ pattern: '^0x[0-9a-fA-F]{64}$', description: 'the EVM transaction hash' }) },
  { additionalProperties: false },
);
const LinkParam = Type.Object(
  { token: Type.String({ pattern: '^rfl_[0-9a-z]{26}$' }) },
  { additionalProperties: false },
);
const LinkBody = Type.Object(
  { destination: Type.String({ minLength: 1, maxLength: 120 }) },
  { additionalProperties: false },
);
const Timestamp = Type.String({ format: 'date-time', description: 'an RFC 3339 time' });
const ReportQuery = Type.Object(
  {
    from: Type.Optional(Timestamp),
    to: Type.Optional(Timestamp),
    format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('json')])),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    starting_after: Type.Optional(Cursor),
    invoice_id: Type.Optional(Type.String({ pattern: '^inv_[0-9a-z]{26}$' })),
  },
  { additionalProperties: false },
);

export const moneyRoutes = [
  defineRoute<IdP, unknown, Static<typeof RefundBody>>({
    method: 'POST',
    url: '/v1/invoices/:id/refunds',
    operationId: 'requestRefund',
    summary: 'Request a refund (full, partial or the excess); it waits for an admin approval',
    tag: 'refunds',
    scope: 'refunds:write',
    idempotent: true,
    successStatus: 201,
    params: InvoiceId,
    body: RefundBody,
    response: ref('RequestedRefund'),
    handler: async (ctx, { params, body }) =>
      requestRefund(
        ctx.tally,
        ctx.principal.merchantId,
        ctx.principal.keyId,
        params.id,
        body as RefundRequest,
        ctx.storeIdempotentResponse,
      ),
  }),
  defineRoute<unknown, Static<typeof ListQuery>>({
    method: 'GET',
    url: '/v1/refunds',
    operationId: 'listRefunds',
    summary: 'List refunds, newest first',
    tag: 'refunds',
    scope: 'invoices:read',
    querystring: ListQuery,
    response: ref('RefundList'),
    handler: async (ctx, { query }) =>
      listRefunds(ctx.tally, ctx.principal.merchantId, {
        limit: Number(query.limit ?? 20),
        startingAfter: query.starting_after,
        invoiceId: query.invoice_id,
      }),
  }),
  defineRoute<IdP>({
    method: 'GET',
    url: '/v1/refunds/:id',
    operationId: 'getRefund',
    summary: 'Get a refund with its unsigned transaction',
    tag: 'refunds',
    scope: 'invoices:read',
    params: RefundId,
    response: ref('Refund'),
    handler: async (ctx, { params }) =>
      serializeRefund(await loadRefund(ctx.tally.database.read, ctx.principal.merchantId, params.id)),
  }),
  defineRoute<IdP, unknown, Static<typeof ApproveBody>>({
    method: 'POST',
    url: '/v1/refunds/:id/approve',
    operationId: 'approveRefund',
    summary: 'Approve a refund (admin role, not the requesting key), with a reason',
    tag: 'refunds',
    scope: 'admin',
    params: RefundId,
    body: ApproveBody,
    response: ref('Refund'),
    handler: async (ctx, { params, body }) =>
      approveRefund(ctx.tally, ctx.principal.merchantId, ctx.principal.keyId, params.id, body.reason),
  }),
  defineRoute<IdP, unknown, Static<typeof BuildBody>>({
    method: 'POST',
    url: '/v1/refunds/:id/transaction',
    operationId: 'buildRefundTransaction',
    summary: 'Build the unsigned refund transaction (PSBT or EIP-1559) with a fee estimate',
    tag: 'refunds',
    scope: 'refunds:write',
    params: RefundId,
    body: BuildBody,
    response: ref('Refund'),
    handler: async (ctx, { params, body }) =>
      buildRefundTransaction(ctx.tally, ctx.principal.merchantId, params.id, body ?? {}),
  }),
  defineRoute<IdP, unknown, Static<typeof TxHashBody>>({
    method: 'POST',
    url: '/v1/refunds/:id/transaction-hash',
    operationId: 'reportRefundTransaction',
    summary:
      'EVM native-coin refunds: the hash of the signed transaction, checked on chain before the refund completes',
    tag: 'refunds',
    scope: 'refunds:write',
    params: RefundId,
    body: TxHashBody,
    response: ref('Refund'),
    handler: async (ctx, { params, body }) =>
      reportRefundTransaction(ctx.tally, ctx.principal.merchantId, params.id, body.txid),
  }),
  defineRoute<IdP>({
    method: 'POST',
    url: '/v1/refunds/:id/cancel',
    operationId: 'cancelRefund',
    summary: 'Cancel a refund that has not completed',
    tag: 'refunds',
    scope: 'refunds:write',
    params: RefundId,
    response: ref('Refund'),
    handler: async (ctx, { params }) => cancelRefund(ctx.tally, ctx.principal.merchantId, params.id),
  }),
  defineRoute<{ token: string }, unknown, Static<typeof LinkBody>>({
    method: 'POST',
    url: '/v1/refund-links/:token',
    operationId: 'submitRefundDestination',
    summary: 'Customer-facing: give the address to refund to (the link token is the credential)',
    tag: 'refunds',
    scope: null,
    params: LinkParam,
    body: LinkBody,
    response: ref('RefundDestination'),
    handler: async (ctx, { params, body }) => setRefundDestination(ctx.tally, params.token, body.destination),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/ledger/balances',
    operationId: 'ledgerBalances',
    summary: 'Balances per account, asset and network, derived from the entries',
    tag: 'ledger',
    scope: 'invoices:read',
    response: ref('LedgerBalances'),
    handler: async (ctx) => ({
      object: 'list',
      merchant_id: ctx.principal.merchantId,
      data: await ledgerBalances(ctx.tally.database.read, ctx.principal.merchantId),
    }),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/ledger/verify',
    operationId: 'verifyLedger',
    summary: 'Prove the books: every transaction balances, every invoice has exactly its entries',
    tag: 'ledger',
    scope: 'admin',
    response: ref('LedgerVerification'),
    handler: async (ctx) => ({
      merchant_id: ctx.principal.merchantId,
      ...(await verifyLedger(ctx.tally.database.read, ctx.tally.database.dialect, ctx.principal.merchantId)),
    }),
  }),
  defineRoute<unknown, Static<typeof ReportQuery>>({
    method: 'GET',
    url: '/v1/settlement/report',
    operationId: 'settlementReport',
    summary:
      'Settlement report for [from, to): payments, movements, refunds with order ids, fiat at the locked rate, batches (CSV or JSON, streamed)',
    tag: 'settlement',
    scope: 'invoices:read',
    querystring: ReportQuery,
    response: {
      // format=json (the default) or format=csv: the accountant's import.
      content: { 'application/json': ref('SettlementReport'), 'text/csv': Type.String() },
    },
    handler: async (ctx, { query }) => {
      // Default: the current calendar month (UTC) up to now.
      const now = ctx.tally.clock.now();
      const to = query.to ? queryTime(query.to, 'to') : now;
      const from = query.from
        ? queryTime(query.from, 'from')
        : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
      if (!(from < to)) throw validationError([{ path: 'to', message: 'must be after from' }]);
      const format = query.format ?? 'json';
      ctx.reply.header(
        'content-type',
        format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
      );
      ctx.reply.header(
        'content-disposition',
        `attachment; filename="settlement-${from.toISOString().slice(0, 10)}-${to.toISOString().slice(0, 10)}.${format}"`,
      );
      return reportStream(
        ctx.tally.database.read,
        // On SQLite the payment rows stream from a dedicated read-only connection to the same file.
        { merchantId: ctx.principal.merchantId, from, to, sqlitePath: sqlitePathOf(ctx.tally) },
        format,
      );
    },
  }),
];
