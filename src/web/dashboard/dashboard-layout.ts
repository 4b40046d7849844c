import { can } from '../../auth/permissions.ts';
import type { SessionUser } from '../../auth/sessions.ts';
import { type Html, html } from '../html.ts';
import { en } from '../i18n/en.ts';
import { page } from '../layout.ts';

const t = en.dashboard;

export function csrfField(user: SessionUser): Html {
  return html`<input type="hidden" name="_csrf" value="${user.csrfToken}">`;
}

/**
 * One email with users in several merchants: a switch signs in again as that merchant's user, with
 * the password (users are per merchant and may have different passwords and roles).
 */
function storeSwitcher(user: SessionUser): Html | string {
  const others = (user.stores ?? []).filter((s) => s.merchantId !== user.merchantId);
  if (others.length === 0) return '';
  return html`<form class="inline" id="switch-store" method="post" action="/dashboard/switch">${csrfField(user)}<label for="switch-merchant">${t.switchStore}</label><select id="switch-merchant" name="merchant_id">${others.map((s) => html`<option value="${s.merchantId}">${s.name}</option>`)}</select> <label for="switch-password">${t.password}</label><input id="switch-password" name="password" type="password" autocomplete="current-password" required> <button type="submit">${t.switchButton}</button></form>`;
}

/** Every signed-in page: who is signed in, the navigation, sign-out (a POST with its token). */
export function dashboardPage(
  user: SessionUser,
  title: string,
  body: Html,
  notice?: { kind: 'flash' | 'error'; text: string },
): string {
  return page({
    title: `${title} · ${t.title}`,
    bodyClass: 'dash',
    script: 'dashboard.js',
    // Links only to the pages the role may open: the others would answer 403.
    body: html`<header><nav aria-label="Main"><a href="/dashboard">${t.nav.queues}</a><a href="/dashboard/search">${t.nav.search}</a>${can(user.role, 'read_audit') ? html`<a href="/dashboard/audit">${t.nav.audit}</a>` : ''}${can(user.role, 'settings_read') ? html`<a href="/dashboard/settings">${t.nav.settings}</a>` : ''}</nav>
${storeSwitcher(user)}<form class="inline" method="post" action="/dashboard/logout">${csrfField(user)}<span class="muted">${t.signedInAs(user.email, user.role)}</span> <button type="submit">${t.signOut}</button></form></header>
<main><h1>${title}</h1>${notice ? html`<p class="${notice.kind}" role="${notice.kind === 'error' ? 'alert' : 'status'}">${notice.text}</p>` : ''}${body}</main>`,
  });
}
