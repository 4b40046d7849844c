import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listAudit } from '../../audit/audit-log.ts';
import { verifyAudit } from '../../audit/verify-audit.ts';
import type { SessionUser } from '../../auth/sessions.ts';
import type { Tally } from '../../context.ts';
import { TallyError } from '../../core/errors.ts';
import { RefusedWebInput } from '../clean-input.ts';
import { html } from '../html.ts';
import { en } from '../i18n/en.ts';
import { sendHtml } from '../respond.ts';
import { ACTIONS, type ActionForm, runAction } from './actions.ts';
import { dashboardPage } from './dashboard-layout.ts';
import { renderDeliveries } from './deliveries-page.ts';
import { streamInvoiceCsv } from './export-csv.ts';
import { checkCsrf, currentUser, requirePermission } from './guard.ts';
import { renderInvoicePage } from './invoice-page.ts';
import { loginPage, registerLogin } from './login-routes.ts';
import { invoiceTable, refundTable, renderAudit, renderHome, renderSearch } from './pages.ts';
import {
  exceptionCountsByKind,
  failedDeliveries,
  INVOICE_QUEUES,
  type InvoiceQueue,
  invoiceQueue,
  openExceptions,
  PAGE_SIZE,
  queueCounts,
  refundQueue,
  reviewQueue,
} from './queues.ts';
import { searchInvoices } from './search.ts';
import { runSettingsAction, SETTINGS_ACTIONS, type SettingsOutcome } from './settings-actions.ts';
import { renderSettings } from './settings-page.ts';
import { loadTimeline } from './timeline-data.ts';

type Query = Record<string, string | undefined>;

/**
 * Query values as single strings: a repeated key (`?before=a&before=b`) arrives as an array, which
 * would reach a query builder as a list and fail there (a 500); only string values are kept.
 */
function plainQuery(query: unknown): Query {
  const out: Query = {};
  if (query && typeof query === 'object') {
    for (const [key, value] of Object.entries(query)) if (typeof value === 'string') out[key] = value;
  }
  return out;
}
const t = en.dashboard;

/**
 * The merchant operations UI: server-rendered pages behind a session (docs/decisions/0009).
 * `server` is the dashboard's own Fastify context: its error handler applies to these routes only.
 */
export function registerDashboard(server: FastifyInstance, tally: Tally): void {
  // A value refused before any handler ran (a NUL in a form field, query or path: src/web/
  // clean-input.ts) is answered as a form refused inside one is: a page saying why, with the 4xx.
  // Any other error goes on to the app's handler.
  server.setErrorHandler(async (error, request, reply) => {
    if (!(error instanceof RefusedWebInput)) throw error;
    // Signed out, there is no dashboard page to show it on: the login form says it.
    if (request.routeOptions.url === '/dashboard/login')
      return sendHtml(request, reply, loginPage('/dashboard', error.message), error.status);
    const user = await currentUser(tally, request, reply);
    if (!user) return reply;
    return sendHtml(request, reply, refusalPage(user, error), error.status);
  });
  registerLogin(server, tally);

  /** Runs a page for a signed-in user; a refused permission or bad input is a page, not a 500. */
  const page =
    (
      handler: (
        user: SessionUser,
        request: FastifyRequest,
        reply: FastifyReply,
      ) => Promise<string | undefined>,
    ) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const user = await currentUser(tally, request, reply);
      if (!user) return reply;
      try {
        const body = await handler(user, request, reply);
        return body === undefined ? reply : sendHtml(request, reply, body, reply.statusCode);
      } catch (error) {
        if (!(error instanceof TallyError) || error.status >= 500) throw error;
        return sendHtml(request, reply, refusalPage(user, error), error.status);
      }
    };

  server.get<{ Querystring: Query }>(
    '/dashboard',
    page(async (user, request) => {
      const q = plainQuery(request.query);
      const queue = q.queue && q.queue in t.queues ? q.queue : 'awaiting_payment';
      const counts = await queueCounts(tally, user.merchantId);
      let body = html``;
      let next: string | null = null;
      if (queue in INVOICE_QUEUES) {
        const rows = await invoiceQueue(tally, user.merchantId, queue as InvoiceQueue, q.before);
        body = invoiceTable(rows);
        next = rows.length === PAGE_SIZE ? (rows.at(-1)?.id ?? null) : null;
      } else if (queue === 'exceptions') {
        const rows = await openExceptions(tally, user.merchantId, q.kind, q.before);
        body = html`<table id="exceptions"><thead><tr><th>${t.columns.kind}</th><th>${t.columns.invoice}</th><th>${t.columns.created}</th></tr></thead><tbody>${rows.map((r) => html`<tr><td>${r.kind}</td><td><a href="/dashboard/invoices/${r.invoice_id}">${r.invoice_id}</a></td><td>${String(r.created_at)}</td></tr>`)}</tbody></table>`;
        next = rows.length === PAGE_SIZE ? (rows.at(-1)?.id ?? null) : null;
      } else if (queue === 'review') {
        const rows = await reviewQueue(tally, user.merchantId);
        body = html`<ul>${rows.map((r) => html`<li><a href="/dashboard/invoices/${r.invoice_id}">${r.invoice_id}</a> ${r.body}</li>`)}</ul>`;
      } else if (queue === 'failed_webhooks') {
        const rows = await failedDeliveries(tally, user.merchantId, q.before);
        body = html`<table id="failed-webhooks"><thead><tr><th>${t.columns.event}</th><th>${t.columns.endpoint}</th><th>${t.columns.attempts}</th><th>${t.columns.lastError}</th></tr></thead><tbody>${rows.map((r) => html`<tr><td>${r.type}${r.invoice_id ? html` <a href="/dashboard/invoices/${r.invoice_id}">${r.invoice_id}</a>` : ''}</td><td><code>${r.url}</code></td><td>${r.attempts}</td><td>${r.last_error ?? r.last_status_code ?? ''}</td></tr>`)}</tbody></table>`;
      } else if (queue === 'refunds') {
        const rows = await refundQueue(tally, user.merchantId, q.before);
        body = refundTable(rows, true);
        next = rows.length === PAGE_SIZE ? (rows.at(-1)?.id ?? null) : null;
      }
      const kinds = queue === 'exceptions' ? await exceptionCountsByKind(tally, user.merchantId) : [];
      return renderHome(user, { counts, queue, kind: q.kind, kinds, body, next });
    }),
  );

  server.get<{ Querystring: Query }>(
    '/dashboard/search',
    page(async (user, request) => {
      const query = String(plainQuery(request.query).q ?? '');
      return renderSearch(user, query, query ? await searchInvoices(tally, user.merchantId, query) : []);
    }),
  );

  server.get<{ Params: { id: string }; Querystring: Query }>(
    '/dashboard/invoices/:id',
    page(async (user, request) => {
      const { id } = request.params as { id: string };
      // Only an action's own name: a crafted link must not put its own text in a confirmation.
      const done = plainQuery(request.query).done ?? '';
      const timeline = await loadTimeline(tally, user.merchantId, id);
      return renderInvoicePage(
        user,
        timeline,
        Object.hasOwn(ACTIONS, done)
          ? { kind: 'flash', text: t.actionDone(t.actions[done] ?? done) }
          : undefined,
      );
    }),
  );

  server.post<{ Params: { id: string }; Body: ActionForm }>(
    '/dashboard/invoices/:id/actions',
    page(async (user, request, reply) => {
      const body = (request.body ?? {}) as ActionForm;
      const { id } = request.params as { id: string };
      try {
        checkCsrf(request, user, body);
        const action = await runAction(tally, user, id, body);
        reply.redirect(`/dashboard/invoices/${encodeURIComponent(id)}?done=${action}`, 303);
        return undefined;
      } catch (error) {
        // A refused action stays on its invoice, with why, and a fresh form to try again.
        if (!(error instanceof TallyError) || error.status >= 500 || error.code === 'not_found') throw error;
        const timeline = await loadTimeline(tally, user.merchantId, id);
        reply.code(error.status);
        return renderInvoicePage(user, timeline, { kind: 'error', text: noticeText(error) });
      }
    }),
  );

  server.get<{ Querystring: Query }>(
    '/dashboard/audit',
    page(async (user, request) => {
      requirePermission(user, 'read_audit');
      const before = Number(plainQuery(request.query).before);
      const entries = await listAudit(tally.database.read, user.merchantId, {
        limit: PAGE_SIZE,
        before: Number.isSafeInteger(before) && before > 0 ? before : undefined,
      });
      const next = entries.length === PAGE_SIZE ? (entries.at(-1)?.seq ?? null) : null;
      return renderAudit(user, entries, await verifyAudit(tally.database.read), next);
    }),
  );

  server.get<{ Querystring: Query }>(
    '/dashboard/settings',
    page(async (user, request) => {
      requirePermission(user, 'settings_read');
      // Only a known action name is echoed: the page must not say whatever a crafted link tells it to.
      const done = plainQuery(request.query).done ?? '';
      const flash = Object.hasOwn(SETTINGS_ACTIONS, done) ? t.settings.done(done) : undefined;
      return renderSettings(tally, user, flash ? { kind: 'flash', text: flash } : undefined);
    }),
  );

  // Same role rule as the settings page's webhook section (src/auth/permissions.ts).
  server.get<{ Params: { endpointId: string }; Querystring: Query }>(
    '/dashboard/settings/webhooks/:endpointId/deliveries',
    page(async (user, request) => {
      requirePermission(user, 'settings_read');
      const { endpointId } = request.params as { endpointId: string };
      return renderDeliveries(tally, user, endpointId, plainQuery(request.query).before);
    }),
  );

  // A refused change re-renders the settings page with the error (naming the field) and its 4xx
  // status; a created secret is shown in this response only, never after a redirect.
  server.post<{ Body: Record<string, string | undefined> }>(
    '/dashboard/settings',
    page(async (user, request, reply) => {
      const body = (request.body ?? {}) as Record<string, string | undefined>;
      checkCsrf(request, user, body);
      requirePermission(user, 'settings_read');
      let outcome: SettingsOutcome;
      try {
        outcome = await runSettingsAction(tally, user, body);
      } catch (error) {
        if (!(error instanceof TallyError) || error.status >= 500) throw error;
        reply.status(error.status);
        return renderSettings(tally, user, { kind: 'error', text: error.message });
      }
      if (outcome.secret)
        return renderSettings(
          tally,
          user,
          { kind: 'flash', text: t.settings.done(outcome.action) },
          outcome.secret,
        );
      reply.redirect(`/dashboard/settings?done=${outcome.action}`, 303);
      return undefined;
    }),
  );

  server.get(
    '/dashboard/export.csv',
    page(async (user, _request, reply) => {
      requirePermission(user, 'export');
      await streamInvoiceCsv(tally, user, reply);
      return undefined;
    }),
  );
}

/** A refused page or form: the dashboard with why it was not done. */
function refusalPage(user: SessionUser, error: TallyError): string {
  return dashboardPage(user, t.notDone, html``, { kind: 'error', text: noticeText(error) });
}

/**
 * What a refused form says. A role's limit says so; a stale or foreign form token is not about the
 * role, so its own message stands alone.
 */
function noticeText(error: TallyError): string {
  const issues = (error.details as { issues?: Array<{ path: string }> } | undefined)?.issues ?? [];
  const formProblem = issues.some((i) => i.path === '_csrf' || i.path === 'origin');
  return error.code === 'forbidden' && !formProblem ? `${t.forbidden} ${error.message}` : error.message;
}
