import type { StoredAuditEntry } from '../../audit/audit-log.ts';
import type { AuditVerification } from '../../audit/verify-audit.ts';
import { can } from '../../auth/permissions.ts';
import type { SessionUser } from '../../auth/sessions.ts';
import type { serializeRefund } from '../../refunds/refund-rows.ts';
import { type Html, html } from '../html.ts';
import { en } from '../i18n/en.ts';
import { dashboardPage } from './dashboard-layout.ts';
import { COUNT_CAP, type InvoiceRow } from './queues.ts';

const t = en.dashboard;
const c = t.columns;

export function invoiceTable(rows: InvoiceRow[], id = 'invoices'): Html {
  if (rows.length === 0) return html`<p class="muted">${t.noResults}</p>`;
  return html`<table id="${id}"><thead><tr><th>${c.invoice}</th><th>${c.order}</th><th>${c.status}</th><th>${c.amount}</th><th>${c.created}</th></tr></thead><tbody>${rows.map(
    (r) =>
      html`<tr><td><a href="/dashboard/invoices/${r.id}">${r.id}</a></td><td>${r.order ?? '—'}</td><td>${r.status}</td><td>${r.amount} ${r.currency}</td><td>${r.created}</td></tr>`,
  )}</tbody></table>`;
}

type RefundView = ReturnType<typeof serializeRefund>;

/** Refunds with what an operator needs to act: status, amount in the asset, where to, who asked and why. */
export function refundTable(rows: RefundView[], linkInvoice: boolean): Html {
  if (rows.length === 0) return html`<p class="muted">${t.noResults}</p>`;
  const r = t.refunds;
  return html`<table id="refunds"><thead><tr><th>${r.refund}</th>${linkInvoice ? html`<th>${c.invoice}</th>` : ''}<th>${c.status}</th><th>${c.amount}</th><th>${r.destination}</th><th>${r.requested}</th><th>${c.reason}</th></tr></thead><tbody>${rows.map(
    (x) =>
      html`<tr><td><code>${x.id}</code> ${x.kind}</td>${linkInvoice ? html`<td><a href="/dashboard/invoices/${x.invoice_id}">${x.invoice_id}</a></td>` : ''}<td>${x.status}${x.txid ? html` <code>${x.txid}</code>` : ''}</td><td>${x.amount} ${x.asset} <span class="muted">${x.network}</span></td><td>${x.destination ? html`<code>${x.destination}</code>` : r.awaitingAddress}</td><td>${x.created_at} ${x.requested_by}${x.approved_by ? html`<br>${r.approvedBy(x.approved_by, x.approval_reason ?? '')}` : ''}</td><td>${x.reason}</td></tr>`,
  )}</tbody></table>`;
}

export interface HomeData {
  counts: Record<string, number>;
  queue: string;
  kind: string | undefined;
  kinds: Array<{ kind: string; count: number }>;
  body: Html;
  next: string | null;
}

const showCount = (n: number) => (n > COUNT_CAP ? `${COUNT_CAP}+` : String(n));

/** The queues: counts for all, the chosen one listed below. */
export function renderHome(user: SessionUser, d: HomeData): string {
  const nav = html`<ul class="queues">${Object.entries(t.queues).map(
    ([queue, label]) =>
      html`<li><a href="/dashboard?queue=${queue}"${queue === d.queue ? html` aria-current="page"` : ''}>${label}</a> <span class="count" data-queue="${queue}">${showCount(d.counts[queue] ?? 0)}</span></li>`,
  )}</ul>`;
  const kinds =
    d.queue === 'exceptions'
      ? html`<p>${d.kinds.map((k) => html`<a href="/dashboard?queue=exceptions&amp;kind=${k.kind}">${k.kind}</a> (${k.count}) `)}</p>`
      : '';
  const exportLink = can(user.role, 'export')
    ? html`<p><a id="export" href="/dashboard/export.csv">${t.nav.export}</a></p>`
    : '';
  const more = d.next
    ? html`<p><a href="/dashboard?queue=${d.queue}${d.kind ? `&kind=${d.kind}` : ''}&amp;before=${d.next}">${t.more}</a></p>`
    : '';
  return dashboardPage(
    user,
    t.queues[d.queue] ?? d.queue,
    html`<form method="get" action="/dashboard/search" role="search"><label for="q">${t.searchLabel}</label><input id="q" name="q" size="50"> <button type="submit">${t.searchButton}</button></form>${nav}${exportLink}${kinds}${d.body}${more}`,
  );
}

export function renderSearch(user: SessionUser, query: string, rows: InvoiceRow[]): string {
  return dashboardPage(
    user,
    t.nav.search,
    html`<form method="get" action="/dashboard/search" role="search"><label for="q">${t.searchLabel}</label><input id="q" name="q" size="50" value="${query}"> <button type="submit">${t.searchButton}</button></form>${query ? invoiceTable(rows, 'results') : ''}`,
  );
}

export function renderAudit(
  user: SessionUser,
  entries: StoredAuditEntry[],
  verification: AuditVerification,
  next: number | null,
): string {
  const status = verification.ok
    ? html`<p class="flash" id="chain">${t.audit.verified(verification.entries, verification.headHash)}</p>`
    : html`<p class="error" id="chain" role="alert">${t.audit.broken(verification.problem?.seq ?? 0, verification.problem?.reason ?? '')}</p>`;
  return dashboardPage(
    user,
    t.nav.audit,
    html`${status}<table id="audit"><thead><tr><th>#</th><th>${c.when}</th><th>${c.who}</th><th>${c.action}</th><th>${c.target}</th><th>${c.reason}</th></tr></thead><tbody>${entries.map(
      (e) =>
        html`<tr><td>${e.seq}</td><td>${e.createdAt}</td><td>${e.actorLabel}</td><td>${e.action}</td><td>${e.targetId ? html`<a href="/dashboard/invoices/${e.targetId}">${e.targetId}</a>` : '—'}</td><td>${e.reason ?? ''}</td></tr>`,
    )}</tbody></table>${next ? html`<p><a href="/dashboard/audit?before=${next}">${t.more}</a></p>` : ''}`,
  );
}

/** CSV for finance: RFC 4180 quoting, and a leading ' on cells a spreadsheet would run as a formula. */
export function csvCell(value: string | number | null): string {
  let text = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
