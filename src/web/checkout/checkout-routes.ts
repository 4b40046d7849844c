import type { FastifyInstance } from 'fastify';
import type { Tally } from '../../context.ts';
import { TallyError } from '../../core/errors.ts';
import { SECURITY_HEADERS, sendHtml } from '../respond.ts';
import { renderCheckout, renderNotFound } from './checkout-page.ts';
import { loadCheckout, publicState } from './checkout-state.ts';
import type { LiveInvoices } from './live-invoices.ts';

type Params = { Params: { id: string }; Querystring: { option?: string } };

/** The public checkout: the page, its state as JSON (polling fallback), and its live stream. */
export function registerCheckout(server: FastifyInstance, tally: Tally, live: LiveInvoices): void {
  server.get<Params>('/pay/:id', async (request, reply) => {
    try {
      const data = await loadCheckout(tally, request.params.id);
      const option = typeof request.query.option === 'string' ? request.query.option : undefined;
      return sendHtml(request, reply, renderCheckout(data, option, tally.clock.now()));
    } catch (error) {
      if (error instanceof TallyError && error.code === 'not_found') {
        return sendHtml(request, reply, renderNotFound(), 404);
      }
      throw error;
    }
  });

  server.get<Params>('/pay/:id/status.json', async (request, reply) => {
    const state = publicState(await loadCheckout(tally, request.params.id));
    return reply.headers(SECURITY_HEADERS).header('cache-control', 'no-store').send(state);
  });

  // Server-sent events: one "state" event now, another after each change of the invoice, a comment
  // every 15 s so proxies keep the connection open. Ends by itself once the state is final.
  server.get<Params>('/pay/:id/events', async (request, reply) => {
    const first = await loadCheckout(tally, request.params.id);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    const send = (state: ReturnType<typeof publicState>) => {
      res.write(`event: state\ndata: ${JSON.stringify(state)}\n\n`);
      if (state.status === 'complete' || state.status === 'expired' || state.status === 'cancelled') close();
    };
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    let unsubscribe = () => {};
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      res.end();
    };
    request.raw.on('close', close);
    res.write('retry: 3000\n\n');
    send(publicState(first));
    if (closed) return;
    unsubscribe = live.subscribe(request.params.id, first.version, () => {
      loadCheckout(tally, request.params.id).then(
        (data) => !closed && send(publicState(data)),
        (error) => tally.log.warn({ err: error }, 'checkout stream read failed'),
      );
    });
  });
}
