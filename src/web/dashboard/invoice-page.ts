import { can } from '../../auth/permissions.ts';
import type { SessionUser } from '../../auth/sessions.ts';
import { isAllowed } from '../../invoices/transition-table.ts';
import { type Html, html } from '../html.ts';
import { en } from '../i18n/en.ts';
import { REVIEW_CLEARED } from './actions.ts';
import { csrfField, dashboardPage } from './dashboard-layout.ts';
import { explorerTxUrl } from './explorers.ts';
import { refundTable } from './pages.ts';
import type { Timeline } from './timeline-data.ts';

const t = en.dashboard;
const tl = t.timeline;
const a = t.actions;

function section(title: string, body: Html | string, empty: boolean) {
  return html`<section class="card"><h2>${title}</h2>${empty ? html`<p class="muted">${tl.none}</p>` : body}</section>`;
}

function actionForm(
  user: SessionUser,
  invoiceId: string,
  action: string,
  fields: Html | string,
  danger = false,
) {
  return html`<form method="post" action="/dashboard/invoices/${invoiceId}/actions" class="card" data-action="${action}"${danger ? html` data-confirm="${a[action] ?? action}?"` : ''}>${csrfField(user)}<input type="hidden" name="action" value="${action}">${fields}<p><button type="submit"${danger ? html` class="danger"` : ''}>${a[action] ?? action}</button></p></form>`;
}

function reasonField(id: string, required: boolean) {
  return html`<label for="${id}">${required ? a.reason : a.note}</label><textarea id="${id}" name="reason" rows="2" maxlength="1000"${required ? html` required` : ''}></textarea>`;
}

/** Whether the invoice is in the review queue: a mark with no later clearing note (queues.ts). */
function underReview(d: Timeline): boolean {
  const openExceptions = new Set(d.exceptions.filter((e) => e.status === 'open').map((e) => e.id));
  let under = false;
  for (const n of d.notes) {
    // Notes come in creation order; an escalation counts while its exception is open.
    if (n.kind === 'review' || (n.kind === 'escalation' && openExceptions.has(n.exception_id ?? '')))
      under = true;
    else if (n.kind === REVIEW_CLEARED) under = false;
  }
  return under;
}

/**
 * Paid, pending and shortfall are in the asset of the option the customer paid with; until a
 * payment selects one there is no asset to state them in, and nothing has been paid.
 */
function totalsText(inv: Timeline['invoice']): string {
  const option = inv.payment_options.find((o) => o.id === inv.selected_option_id);
  if (!option) return tl.nothingPaid;
  return `${inv.amount_paid} / ${inv.amount_pending} / ${inv.shortfall} ${option.asset}`;
}

/** A dashboard user by email where it is known; an API key or the system by kind and id. */
function actorName(actor: { kind: string; id: string | null }, emails: ReadonlyMap<string, string>): string {
  const email = actor.kind === 'user' && actor.id ? emails.get(actor.id) : undefined;
  return email ?? `${actor.kind} ${actor.id ?? ''}`.trim();
}

/** The invoice timeline and, by role, the actions its viewer may take. */
export function renderInvoicePage(
  user: SessionUser,
  d: Timeline,
  notice?: { kind: 'flash' | 'error'; text: string },
) {
  const inv = d.invoice;
  const open = d.exceptions.filter((e) => e.status === 'open');
  const pick = (kinds: string[]) => open.filter((e) => kinds.includes(e.kind));
  const exceptionSelect = (id: string, list: typeof open) =>
    html`<label for="${id}">Exception</label><select id="${id}" name="exception_id">${list.map((e) => html`<option value="${e.id}">${e.kind} · ${e.id}</option>`)}</select>`;
  const failed = d.deliveries.filter((x) => x.status === 'failed');

  const support = can(user.role, 'support_action')
    ? html`<section class="card" id="support-actions"><h2>${a.support}</h2>
${actionForm(user, inv.id, 'share_link', reasonField('r-share', false))}
${actionForm(user, inv.id, 'mark_review', reasonField('r-review', true))}
${underReview(d) ? actionForm(user, inv.id, 'clear_review', reasonField('r-clear', true)) : ''}
${actionForm(user, inv.id, 'attach_evidence', html`<label for="tx-hash">${a.txHash}</label><input id="tx-hash" name="tx_hash" required maxlength="100">${reasonField('r-evidence', false)}`)}
${pick(['underpayment']).length ? actionForm(user, inv.id, 'request_top_up', html`${exceptionSelect('x-top', pick(['underpayment']))}${reasonField('r-top', false)}`) : ''}
${pick(['overpayment']).length ? actionForm(user, inv.id, 'approve_overpayment', html`${exceptionSelect('x-over', pick(['overpayment']))}${reasonField('r-over', false)}`) : ''}
${pick(['wrong_network', 'wrong_asset']).length ? actionForm(user, inv.id, 'escalate_wrong_network', html`${exceptionSelect('x-wrong', pick(['wrong_network', 'wrong_asset']))}${reasonField('r-wrong', false)}`) : ''}
${failed.length ? actionForm(user, inv.id, 'redeliver', html`<label for="delivery">${t.columns.event}</label><select id="delivery" name="delivery_id">${failed.map((x) => html`<option value="${x.id}">${x.type} → ${x.url}</option>`)}</select>`) : ''}
</section>`
    : '';
  const dangerous = can(user.role, 'dangerous_action')
    ? html`<section class="card" id="dangerous-actions"><h2>${a.dangerous}</h2>
${
  // Offered only where the state machine takes them (docs/transition-table.md): never to be refused.
  isAllowed(inv.status, 'paid', 'mark_paid')
    ? actionForm(user, inv.id, 'mark_paid', reasonField('r-paid', true), true)
    : ''
}
${isAllowed(inv.status, 'failed', 'mark_failed') ? actionForm(user, inv.id, 'mark_failed', reasonField('r-failed', true), true) : ''}
${open.length ? actionForm(user, inv.id, 'resolve', html`${exceptionSelect('x-resolve', open)}<label for="resolution">Resolution</label><select id="resolution" name="resolution"><option>accepted</option><option>refund_requested</option><option>refunded</option><option>dismissed</option></select>${reasonField('r-resolve', true)}`, true) : ''}
</section>`
    : '';

  const body = html`<p>${tl.checkoutLink}: <a href="/pay/${inv.id}">/pay/${inv.id}</a></p>
${section(
  tl.intent,
  html`<table><tbody><tr><th scope="row">${t.columns.status}</th><td id="invoice-status">${inv.status}</td></tr><tr><th scope="row">${t.columns.order}</th><td>${inv.merchant_order_id ?? '—'}</td></tr><tr><th scope="row">${t.columns.amount}</th><td>${inv.price.amount} ${inv.price.currency}</td></tr><tr><th scope="row">Paid / pending / shortfall</th><td id="invoice-totals">${totalsText(inv)}</td></tr><tr><th scope="row">${t.columns.created}</th><td>${inv.created_at}</td></tr><tr><th scope="row">Expires / monitored until</th><td>${inv.expires_at} / ${inv.monitoring_until}</td></tr><tr><th scope="row">Fulfilment</th><td>${inv.fulfilment ? `${inv.fulfilment.fulfilled_at} ${inv.fulfilment.reference ?? ''}` : '—'}</td></tr></tbody></table>`,
  false,
)}
${section(
  tl.options,
  html`<table><thead><tr><th>Asset</th><th>Network</th><th>Address</th><th>Due</th><th>Confirmations</th></tr></thead><tbody>${inv.payment_options.map(
    (o) =>
      html`<tr><td>${o.asset}</td><td>${o.network}</td><td><code>${o.address}</code></td><td>${o.amount_due} ${o.asset}${o.rate ? html`<br><span class="muted">${tl.rate(o.rate.value, inv.price.currency, o.rate.source, o.rate.fetched_at)}</span>` : ''}</td><td>${tl.requiredConfs(o.required_confirmations, o.confirmation_reason)}</td></tr>`,
  )}</tbody></table>`,
  inv.payment_options.length === 0,
)}
${section(tl.policy, html`<pre>${JSON.stringify(inv.policy, null, 2)}</pre>`, false)}
${section(
  tl.payments,
  html`<table><thead><tr><th>Tx</th><th>${t.columns.amount}</th><th>Confirmations</th><th>Timing</th><th>Seen</th></tr></thead><tbody>${inv.payments.map(
    (p) => {
      const url = explorerTxUrl(p.network, p.txid);
      return html`<tr><td><code>${p.txid}</code>${url ? html` <a href="${url}" rel="noreferrer">${tl.explorer}</a>` : ''}</td><td>${p.amount} ${p.asset}${p.misdirected ? html` <strong>${p.misdirected}</strong>` : ''}</td><td>${p.confirmations} / ${p.required_confirmations ?? '—'}</td><td>${p.timing}${p.removed ? ` removed (${p.removed_reason})` : ''}${p.credited ? '' : ' not credited'}</td><td>${p.seen_at}</td></tr>`;
    },
  )}</tbody></table>`,
  inv.payments.length === 0,
)}
${section(
  tl.history,
  html`<ol id="transitions">${d.transitions.map((x) => html`<li><time>${x.created_at}</time> ${x.from} → <strong>${x.to}</strong> · ${x.cause.kind}${x.actor ? ` by ${actorName(x.actor, d.actorEmails)}` : ''}${x.reason ? html` · “${x.reason}”` : ''}</li>`)}</ol>`,
  d.transitions.length === 0,
)}
${section(
  tl.exceptions,
  html`<ul>${d.exceptions.map((e) => html`<li><strong>${e.kind}</strong> ${e.status}${e.resolution ? ` (${e.resolution}: ${e.resolved_reason ?? ''})` : ''} · <code>${JSON.stringify(e.evidence)}</code></li>`)}</ul>`,
  d.exceptions.length === 0,
)}
${section(tl.refunds, refundTable(d.refunds, false), d.refunds.length === 0)}
${section(
  tl.webhooks,
  html`<ul>${d.deliveries.map((x) => html`<li>${x.type} → ${x.url}: <strong>${x.status}</strong>, ${x.attempts} attempts<ul>${x.log.map((at) => html`<li>#${at.attempt} ${at.started_at} ${at.outcome} ${at.status_code ?? ''} ${at.latency_ms} ms ${at.error ?? ''}</li>`)}</ul></li>`)}</ul>`,
  d.deliveries.length === 0,
)}
${section(
  tl.notes,
  html`<ul id="notes">${d.notes.map((n) => html`<li><time>${n.created_at}</time> <strong>${n.kind}</strong> ${n.body} <span class="muted">${n.email ?? ''}</span></li>`)}</ul>`,
  d.notes.length === 0,
)}
${
  // The audit log is for the roles that may read it (docs/decisions/0009), here as on its own page.
  can(user.role, 'read_audit')
    ? section(
        tl.audit,
        html`<ul id="audit">${d.audit.map((e) => html`<li>#${e.seq} <time>${e.createdAt}</time> ${e.actorLabel}: <strong>${e.action}</strong>${e.reason ? html` · “${e.reason}”` : ''}</li>`)}</ul>`,
        d.audit.length === 0,
      )
    : ''
}
${support}${dangerous}`;
  return dashboardPage(user, `${t.columns.invoice} ${inv.id}`, body, notice);
}
