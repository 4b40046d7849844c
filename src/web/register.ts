import type { FastifyInstance } from 'fastify';
import type { Tally } from '../context.ts';
import { registerAssets } from './assets.ts';
import { registerCheckout } from './checkout/checkout-routes.ts';
import { LiveInvoices } from './checkout/live-invoices.ts';
import { parseForm, refuseBadPathAndQuery } from './clean-input.ts';
import { registerDashboard } from './dashboard/dashboard-routes.ts';
import { registerRefundLink } from './refund-link/refund-link-page.ts';

/**
 * The two web UIs, server-rendered, in their own Fastify context: HTML forms
 * (application/x-www-form-urlencoded) are parsed here only, so the JSON API keeps refusing them.
 * Every form field, query value and path segment is checked here too, before any handler: a value
 * the database cannot take (a NUL) is a 422 naming it, never a 500 from the query it reaches.
 */
export function registerWeb(server: FastifyInstance, tally: Tally): void {
  const live = new LiveInvoices(tally);
  server.addHook('onClose', async () => live.stop());
  server.register(async (web) => {
    web.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 64 * 1024 },
      (_request, body, done) => {
        try {
          done(null, parseForm(body as string));
        } catch (error) {
          done(error as Error, undefined);
        }
      },
    );
    web.addHook('preValidation', async (request) => refuseBadPathAndQuery(request));
    registerAssets(web);
    registerCheckout(web, tally, live);
    // Its own context: the dashboard answers refused input with a page (its error handler).
    web.register(async (dashboard) => registerDashboard(dashboard, tally));
    registerRefundLink(web, tally);
  });
}
