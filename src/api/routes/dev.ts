import { type Static, Type } from '@sinclair/typebox';
import { payInvoiceOnDevnet } from '../../dev/pay-invoice.ts';
import { ref } from '../responses/index.ts';
import { defineRoute } from '../route.ts';
import { IdParam } from '../schemas.ts';

const InvoiceId = IdParam('inv');
const PayQuery = Type.Object(
  { option_id: Type.Optional(Type.String({ pattern: '^opt_[0-9a-z]{26}$' })) },
  { additionalProperties: false },
);

/**
 * DEV MODE ONLY: "pay this invoice" from the local devnet's test customer, so a newcomer sees an
 * invoice go from awaiting_payment to paid. Refused with `dev_mode_only` (403) in production mode;
 * the gateway learns of the payment only through its chain watcher, like any other.
 */
export const devRoutes = [
  defineRoute<Static<typeof InvoiceId>, Static<typeof PayQuery>>({
    method: 'POST',
    url: '/v1/dev/invoices/:id/pay',
    operationId: 'devPayInvoice',
    summary: 'Dev mode only: pay the invoice on the local devnet from a test account',
    tag: 'dev',
    scope: 'invoices:write',
    params: InvoiceId,
    querystring: PayQuery,
    response: ref('DevPayment'),
    handler: async (ctx, { params, query }) =>
      payInvoiceOnDevnet(ctx.tally, {
        invoiceId: params.id,
        merchantId: ctx.principal.merchantId,
        rpcUrl: ctx.tally.devnet?.rpcUrl ?? null,
        bitcoinRpcUrl: ctx.tally.devnet?.bitcoinRpcUrl ?? null,
        ...(query.option_id ? { optionId: query.option_id } : {}),
      }),
  }),
];
