import { can } from '../../auth/permissions.ts';
import type { SessionUser } from '../../auth/sessions.ts';
import type { Tally } from '../../context.ts';
import { toDateOrNull } from '../../db/values.ts';
import { listDeliveries } from '../../webhooks/delivery-queries.ts';
import { loadEndpoint } from '../../webhooks/endpoint-service.ts';
import { html } from '../html.ts';
import { en } from '../i18n/en.ts';
import { csrfField, dashboardPage } from './dashboard-layout.ts';
import { PAGE_SIZE } from './queues.ts';

const t = en.dashboard.deliveries;

/**
 * One webhook endpoint's delivery log (issue: "webhook endpoints with secret rotation and delivery
 * log"), newest first, keyset-paged by delivery id. The deliveries come from the webhooks module's
 * own listing; only the event type and the last attempt are looked up here, one query each per page
 * (not one per row), because the listing carries neither.
 */
export async function renderDeliveries(
  tally: Tally,
  user: SessionUser,
  endpointId: string,
  before?: string,
): Promise<string> {
  // loadEndpoint is merchant-scoped: another merchant's endpoint id is a 404, not a leak.
  const endpoint = await loadEndpoint(tally, user.merchantId, endpointId);
  const page = await listDeliveries(
    tally,
    user.merchantId,
    { endpointId },
    { limit: PAGE_SIZE, startingAfter: before },
  );
  const ids = page.data.map((d) => d.id);
  const eventIds = [...new Set(page.data.map((d) => d.event_id))];
  const [events, attempts] = await Promise.all([
    eventIds.length
      ? tally.database.read
          .selectFrom('events')
          .select(['id', 'type', 'invoice_id'])
          .where('merchant_id', '=', user.merchantId)
          .where('id', 'in', eventIds)
          .execute()
      : [],
    ids.length
      ? tally.database.read
          .selectFrom('webhook_attempts')
          .select(['delivery_id', 'attempt', 'started_at', 'outcome', 'status_code', 'latency_ms'])
          .where('delivery_id', 'in', ids)
          .execute()
      : [],
  ]);
  const eventOf = new Map(events.map((e) => [e.id, e]));
  const last = new Map<string, (typeof attempts)[number]>();
  for (const a of attempts) {
    const seen = last.get(a.delivery_id);
    if (!seen || a.attempt > seen.attempt) last.set(a.delivery_id, a);
  }
  // Redelivery is the invoice page's support action (src/web/dashboard/actions.ts), reused as is:
  // it is keyed by invoice, so only deliveries of invoice events get the button, and only for
  // roles that may take support actions (a developer sees the log but cannot resend).
  const mayRedeliver = can(user.role, 'support_action');
  const rows = page.data.map((d) => {
    const event = eventOf.get(d.event_id);
    const a = last.get(d.id);
    const when = a ? (toDateOrNull(a.started_at)?.toISOString() ?? '') : '';
    const outcome = a ? `${a.outcome}${a.status_code ? ` ${a.status_code}` : ''}` : '';
    const button =
      mayRedeliver && event?.invoice_id
        ? html`<form method="post" action="/dashboard/invoices/${event.invoice_id}/actions" class="inline" data-action="redeliver">${csrfField(user)}<input type="hidden" name="action" value="redeliver"><input type="hidden" name="delivery_id" value="${d.id}"><button type="submit">${t.redeliver}</button></form>`
        : '';
    return html`<tr data-delivery="${d.id}"><td>${event?.type ?? ''}</td><td><code>${d.event_id}</code></td><td>${d.status}</td><td>${d.attempts}</td><td>${when}</td><td>${outcome}</td><td>${a?.latency_ms == null ? '' : t.latency(a.latency_ms)}</td><td>${d.next_attempt_at ?? ''}</td><td>${button}</td></tr>`;
  });
  const c = t.columns;
  const more = page.next_cursor
    ? html`<p><a href="/dashboard/settings/webhooks/${endpoint.id}/deliveries?before=${page.next_cursor}">${en.dashboard.more}</a></p>`
    : '';
  const body = html`<p><code>${endpoint.url}</code> · <a href="/dashboard/settings#webhooks">${t.back}</a></p>${
    rows.length
      ? html`<table id="deliveries"><thead><tr><th>${c.type}</th><th>${c.event}</th><th>${c.status}</th><th>${c.attempts}</th><th>${c.lastAt}</th><th>${c.lastOutcome}</th><th>${c.latency}</th><th>${c.next}</th><th>${c.actions}</th></tr></thead><tbody>${rows}</tbody></table>`
      : html`<p>${t.none}</p>`
  }${more}`;
  return dashboardPage(user, t.title, body);
}
