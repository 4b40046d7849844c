import { listApiKeys } from '../../auth/api-keys.ts';
import { getMerchant } from '../../auth/merchants.ts';
import {
  ASSIGNABLE_ROLES,
  can,
  GRANTABLE_SCOPES,
  mayAssignRole,
  mayGrantScopes,
} from '../../auth/permissions.ts';
import type { UserRole } from '../../auth/scopes.ts';
import type { SessionUser } from '../../auth/sessions.ts';
import { listDashboardUsers } from '../../auth/user-admin.ts';
import type { Tally } from '../../context.ts';
import { listWallets } from '../../wallets/wallet-service.ts';
import { listEndpoints } from '../../webhooks/endpoint-service.ts';
import { type Html, html } from '../html.ts';
import { en } from '../i18n/en.ts';
import { csrfField, dashboardPage } from './dashboard-layout.ts';
import type { SettingsOutcome } from './settings-actions.ts';

const s = en.dashboard.settings;

/** One settings form: the session's CSRF token, the action, its fields, and a reason box. */
function formMaker(user: SessionUser) {
  let n = 0;
  return (action: string, fields: Html | string, reason: 'required' | 'optional', label?: string) => {
    const id = `reason-${++n}`;
    return html`<form method="post" action="/dashboard/settings" class="inline-form" data-action="${action}">${csrfField(user)}<input type="hidden" name="action" value="${action}">${fields}<label for="${id}">${reason === 'required' ? s.reason : s.note}</label><input id="${id}" name="reason" maxlength="1000"${reason === 'required' ? html` required` : ''}> <button type="submit">${label ?? s.buttons[action] ?? action}</button></form>`;
  };
}

function roleSelect(user: SessionUser, id: string, selected?: string) {
  const roles = ASSIGNABLE_ROLES[user.role as UserRole] ?? [];
  return html`<label for="${id}">${s.role}</label><select id="${id}" name="role">${roles.map((r) => html`<option${r === selected ? html` selected` : ''}>${r}</option>`)}</select>`;
}

/**
 * Settings: wallets with gap status (read-only; xpubs for owners and admins only, as in the API),
 * the default policy, webhook endpoints, API keys and users, each with the forms the viewer's role
 * allows (src/auth/permissions.ts). A secret just created is shown once, above everything.
 */
export async function renderSettings(
  tally: Tally,
  user: SessionUser,
  notice?: { kind: 'flash' | 'error'; text: string },
  shown?: SettingsOutcome['secret'],
): Promise<string> {
  const showKey = can(user.role, 'manage_users');
  const [merchant, wallets, endpoints, keys, users] = await Promise.all([
    getMerchant(tally.database.read, user.merchantId),
    listWallets(tally, user.merchantId, showKey),
    listEndpoints(tally, user.merchantId),
    listApiKeys(tally.database.read, user.merchantId),
    listDashboardUsers(tally.database.read, user.merchantId),
  ]);
  const policy = merchant.policy;
  const form = formMaker(user);
  const secret = shown
    ? html`<section class="card secret" id="shown-secret" aria-labelledby="secret-title"><h2 id="secret-title">${s.secretTitle(shown.label)}</h2><p>${s.secretOnce}</p><p><code id="secret-value">${shown.value}</code></p></section>`
    : '';
  const wallet = html`<section class="card" id="wallets"><h2>${s.wallets}</h2><ul>${wallets.map(
    (w) =>
      html`<li><strong>${w.scope}</strong>${w.script_type === w.scope ? '' : ` ${w.script_type}`} · ${w.label ?? ''} <code>${w.xpub ?? w.key_fingerprint ?? ''}</code> · ${w.addresses_allocated}/${w.addresses_derived} addresses${w.gap ? html` · ${s.gap(w.gap.unpaid_since_last_paid, w.gap.limit)}${w.gap.warning ? html` <strong>warning</strong>` : ''}` : ''}</li>`,
  )}</ul></section>`;

  const num = (name: string, value: number, label: string) =>
    html`<label for="p-${name}">${label}</label><input id="p-${name}" name="${name}" inputmode="numeric" value="${value}">`;
  const policyForm = can(user.role, 'manage_policy')
    ? form(
        'policy_update',
        html`${num('expiry_seconds', policy.expiry_seconds, s.policyFields.expiry_seconds)}${num('monitoring_window_seconds', policy.monitoring_window_seconds, s.policyFields.monitoring_window_seconds)}${num('underpayment_tolerance_bps', policy.underpayment_tolerance_bps, s.policyFields.underpayment_tolerance_bps)}${num('overpayment_tolerance_bps', policy.overpayment_tolerance_bps, s.policyFields.overpayment_tolerance_bps)}<label for="p-value_currency">${s.policyFields.value_currency}</label><input id="p-value_currency" name="value_currency" value="${policy.value_currency}"><label for="p-zero_conf">${s.policyFields.zero_conf_max_value}</label><input id="p-zero_conf" name="zero_conf_max_value" value="${policy.zero_conf_max_value ?? ''}"><label for="p-tiers">${s.policyFields.confirmation_tiers}</label><textarea id="p-tiers" name="confirmation_tiers" rows="4" cols="60">${JSON.stringify(policy.confirmation_tiers, null, 1)}</textarea>`,
        'required',
      )
    : html`<pre>${JSON.stringify(policy, null, 2)}</pre>`;

  const manageHooks = can(user.role, 'manage_webhooks');
  const hooks = html`<section class="card" id="webhooks"><h2>${s.webhooks}</h2><ul>${endpoints.data.map(
    (e) =>
      html`<li data-endpoint="${e.id}"><code>${e.url}</code> · <a href="/dashboard/settings/webhooks/${e.id}/deliveries">${en.dashboard.deliveries.link}</a> · <span class="state">${e.enabled ? s.enabled : s.disabled(e.disabled_reason ?? '')}</span> · ${e.events.join(', ')}${e.failing_since ? ` · ${s.failingSince(e.failing_since)}` : ''}${e.previous_secret_expires_at ? ` · ${s.previousUntil(e.previous_secret_expires_at)}` : ''}${
        manageHooks
          ? html`<details><summary>${s.manage(e.url)}</summary>${form(e.enabled ? 'webhook_disable' : 'webhook_enable', html`<input type="hidden" name="endpoint_id" value="${e.id}">`, 'optional')}${form('webhook_rotate', html`<input type="hidden" name="endpoint_id" value="${e.id}"><label for="overlap-${e.id}">${s.overlap}</label><input id="overlap-${e.id}" name="overlap_seconds" inputmode="numeric" value="86400" size="7">`, 'required')}</details>`
          : ''
      }</li>`,
  )}</ul>${manageHooks ? form('webhook_create', html`<label for="wh-url">${s.url}</label><input id="wh-url" name="url" type="url" required size="50"><label for="wh-events">${s.events}</label><input id="wh-events" name="events" placeholder="*" size="50"><label for="wh-desc">${s.description}</label><input id="wh-desc" name="description" maxlength="500">`, 'required') : ''}</section>`;

  const grantable = GRANTABLE_SCOPES[user.role as UserRole] ?? [];
  const manageKeys = can(user.role, 'manage_api_keys');
  const apiKeys = html`<section class="card" id="api-keys"><h2>${s.apiKeys}</h2><ul>${keys.map(
    (k) =>
      html`<li data-key="${k.id}">${k.name} · ${k.scopes.join(', ')} · ${k.created_at}${k.revoked_at ? ` · ${s.revoked}` : manageKeys && mayGrantScopes(user.role, k.scopes) ? form('api_key_revoke', html`<input type="hidden" name="key_id" value="${k.id}">`, 'required') : ''}</li>`,
  )}</ul>${manageKeys ? form('api_key_create', html`<label for="key-name">${s.name}</label><input id="key-name" name="name" required maxlength="100"><fieldset><legend>${s.scopes}</legend>${grantable.map((sc) => html`<label class="check"><input type="checkbox" name="scope.${sc}" value="1"> ${sc}</label>`)}</fieldset>`, 'required') : ''}</section>`;

  const manageUsers = can(user.role, 'manage_users');
  const userList = html`<section class="card" id="users"><h2>${s.users}</h2><ul>${users.map((u) => {
    const manageable = manageUsers && u.id !== user.userId && mayAssignRole(user.role, u.role);
    return html`<li data-user="${u.email}">${u.email} · <span class="role">${u.role}</span>${u.enabled ? '' : html` · <strong>${s.userDisabled}</strong>`}${
      manageable
        ? html`<details><summary>${s.manage(u.email)}</summary>${form('user_role', html`<input type="hidden" name="user_id" value="${u.id}">${roleSelect(user, `role-${u.id}`, u.role)}`, 'required')}${u.enabled ? form('user_disable', html`<input type="hidden" name="user_id" value="${u.id}">`, 'required') : ''}${
            // A new password is also how a disabled user comes back: the button says so.
            form(
              'user_reset_password',
              html`<input type="hidden" name="user_id" value="${u.id}">`,
              'required',
              u.enabled ? undefined : s.buttons.user_enable,
            )
          }</details>`
        : ''
    }</li>`;
  })}</ul>${manageUsers ? form('user_create', html`<label for="new-email">${en.dashboard.email}</label><input id="new-email" name="email" type="email" required maxlength="254">${roleSelect(user, 'new-role', 'support')}`, 'required') : ''}</section>`;

  const body = html`${secret}${wallet}<section class="card" id="policy"><h2>${s.policy}</h2>${policyForm}</section>${hooks}${apiKeys}${userList}`;
  return dashboardPage(user, en.dashboard.nav.settings, body, notice);
}
