import { listApiKeys } from '../../auth/api-keys.ts';
import { getMerchant, listUsers } from '../../auth/merchants.ts';
import { can } from '../../auth/permissions.ts';
import type { SessionUser } from '../../auth/sessions.ts';
import type { Tally } from '../../context.ts';
import { listWallets } from '../../wallets/wallet-service.ts';
import { listEndpoints } from '../../webhooks/endpoint-service.ts';
import { html } from '../html.ts';
import { en } from '../i18n/en.ts';
import { dashboardPage } from './dashboard-layout.ts';

const s = en.dashboard.settings;

/**
 * Settings, read-only for now: wallets with their gap status (xpubs for owners and admins only, as
 * in the API), the default policy, webhook endpoints, API keys (never their secrets) and users.
 * Changes still go through the API or the CLI.
 */
export async function renderSettings(tally: Tally, user: SessionUser): Promise<string> {
  const showKey = can(user.role, 'manage_users');
  const [merchant, wallets, endpoints, keys, users] = await Promise.all([
    getMerchant(tally.database.read, user.merchantId),
    listWallets(tally, user.merchantId, showKey),
    listEndpoints(tally, user.merchantId),
    listApiKeys(tally.database.read, user.merchantId),
    listUsers(tally.database.read, user.merchantId),
  ]);
  const body = html`<section class="card" id="wallets"><h2>${s.wallets}</h2><ul>${wallets.map(
    (w) =>
      html`<li><strong>${w.scope}</strong> ${w.script_type} · ${w.label ?? ''} <code>${w.xpub ?? w.key_fingerprint ?? ''}</code> · ${w.addresses_allocated}/${w.addresses_derived} addresses${w.gap ? html` · ${s.gap(w.gap.unpaid_since_last_paid, w.gap.limit)}${w.gap.warning ? html` <strong>warning</strong>` : ''}` : ''}</li>`,
  )}</ul></section>
<section class="card" id="policy"><h2>${s.policy}</h2><pre>${JSON.stringify(merchant.policy, null, 2)}</pre></section>
<section class="card" id="webhooks"><h2>${s.webhooks}</h2><ul>${endpoints.data.map(
    (e) =>
      html`<li><code>${e.url}</code> · ${e.enabled ? 'enabled' : `disabled (${e.disabled_reason ?? ''})`} · ${e.events.join(', ')}${e.failing_since ? ` · failing since ${e.failing_since}` : ''}</li>`,
  )}</ul></section>
<section class="card" id="api-keys"><h2>${s.apiKeys}</h2><ul>${keys.map(
    (k) =>
      html`<li>${k.name} · ${k.scopes.join(', ')} · ${k.created_at}${k.revoked_at ? ` · ${s.revoked}` : ''}</li>`,
  )}</ul></section>
<section class="card" id="users"><h2>${s.users}</h2><ul>${users.map((u) => html`<li>${u.email} · ${u.role}</li>`)}</ul></section>`;
  return dashboardPage(user, en.dashboard.nav.settings, body);
}
