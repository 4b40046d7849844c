import type { FastifyInstance } from 'fastify';
import type { Tally } from '../context.ts';
import { registerAssets } from './assets.ts';
import { registerCheckout } from './checkout/checkout-routes.ts';
import { LiveInvoices } from './checkout/live-invoices.ts';
import { registerDashboard } from './dashboard/dashboard-routes.ts';
import { registerRefundLink } from './refund-link/refund-link-page.ts';

/**
 * The two web UIs, server-rendered, in their own Fastify context: HTML forms
 * (application/x-www-form-urlencoded) are parsed here only, so the JSON API keeps refusing them.
 */
export function registerWeb(server: FastifyInstance, tally: Tally): void {
  const live = new LiveInvoices(tally);
  server.addHook('onClose', async () => live.stop());
  server.register(async (web) => {
    web.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 64 * 1024 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    registerAssets(web);
    registerCheckout(web, tally, live);
    registerDashboard(web, tally);
    registerRefundLink(web, tally);
  });
}
