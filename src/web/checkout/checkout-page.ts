import { formatPrice } from '../format.ts';
import { html, raw } from '../html.ts';
import { en } from '../i18n/en.ts';
import { page } from '../layout.ts';
import { qrSvg } from '../qr.ts';
import { type CheckoutData, networkName, type PublicState, publicState } from './checkout-state.ts';
import { amountToSend } from './remainder.ts';

const t = en.checkout;

/**
 * The hosted checkout page. Everything works without JavaScript (option choice is a link, the QR
 * code is inline SVG, the state is rendered by the server); checkout.js adds copy buttons, the
 * countdown and live updates. Strings come from i18n/en.ts, and the script receives its strings
 * through data-msgs so it has no text of its own.
 */
export function renderCheckout(data: CheckoutData, chosenOptionId: string | undefined, now: Date): string {
  const inv = data.invoice;
  const state = publicState(data);
  const option =
    inv.payment_options.find((o) => o.id === (inv.selected_option_id ?? chosenOptionId)) ??
    inv.payment_options[0];
  const msgs = {
    status: t.status,
    explain: t.explain,
    copied: t.copied,
    confirmations: t.confirmations(0, 0).replace(/^0 of 0/, '{n} of {of}'),
    underpaid: t.underpaid('{shortfall}', '{asset}'),
  };
  const net = option ? networkName(option.network) : null;
  const send = option ? amountToSend(inv, option) : null;
  const body = html`<main id="checkout" data-status-url="/pay/${inv.id}/status.json" data-events-url="/pay/${inv.id}/events" data-now="${now.toISOString()}" data-msgs="${JSON.stringify(msgs)}" data-state="${JSON.stringify(state)}">
<header><p class="muted">${t.payTo}</p><h1>${data.merchantName}</h1>${inv.merchant_order_id ? html`<p class="muted">${t.orderRef(inv.merchant_order_id)}</p>` : ''}<p class="price">${formatPrice(inv.price.amount, inv.price.currency, false)} ${inv.price.currency}</p></header>
${stateSection(state)}
${
  inv.payment_options.length > 1 && !inv.selected_option_id
    ? html`<nav class="options" aria-label="${t.chooseOption}"><h2>${t.chooseOption}</h2><ul>${inv.payment_options.map(
        (o) =>
          html`<li><a href="/pay/${inv.id}?option=${o.id}"${o.id === option?.id ? raw(' aria-current="true"') : ''}>${o.asset} · ${networkName(o.network).name}</a></li>`,
      )}</ul></nav>`
    : ''
}
${
  option && net && send
    ? html`<section class="pay" id="pay" aria-labelledby="amount-label" data-shortfall="${state.shortfall}"${payable(state.status) ? '' : raw(' hidden')}>
<p id="amount-label" class="amount">${send.remainder ? t.sendRemainder(send.amount, option.asset) : t.send(send.amount, option.asset)} <button type="button" data-copy="${send.amount}">${t.copyAmount}</button></p>
<div class="network" role="note"><p><span class="muted">${t.network}</span> <strong id="network">${net.name}</strong></p><p class="warn">${t.networkWarning(option.asset, net.name)}</p>${net.testnet ? html`<p class="warn">${t.testnet}</p>` : ''}</div>
${send.uri ? html`<a class="qr" href="${send.uri}" title="${t.openWallet}">${raw(qrSvg(send.uri, t.qrLabel(option.asset, net.name)))}</a><p><a href="${send.uri}">${t.openWallet}</a></p>` : ''}
<p class="muted">${t.address}</p><p><code id="address" class="address">${option.address}</code></p><p><button type="button" data-copy="${option.address}">${t.copyAddress}</button></p>
<p>${t.expiresIn}: <time id="countdown" datetime="${inv.expires_at}">${countdown(inv.expires_at, now)}</time></p><p class="muted">${t.expiresAt(inv.expires_at.slice(0, 16).replace('T', ' '))}</p>
</section>`
    : ''
}
<p class="muted">${t.liveNote}</p>
<footer><p>${t.invoiceId}: <code>${inv.id}</code></p>
${inv.success_url ? html`<p><a id="success-link" class="button" href="${inv.success_url}"${state.status === 'complete' ? '' : raw(' hidden')}>${t.returnToStore}</a></p>` : ''}
${inv.cancel_url ? html`<p><a id="cancel-link" href="${inv.cancel_url}"${state.status === 'complete' ? raw(' hidden') : ''}>${t.cancelAndReturn}</a></p>` : ''}
</footer></main>`;
  return page({ title: t.title(data.merchantName), bodyClass: 'checkout', body, script: 'checkout.js' });
}

function payable(status: string): boolean {
  return status === 'waiting_for_payment' || status === 'issue_detected';
}

function stateSection(state: PublicState) {
  const underpaid = state.status === 'issue_detected' && state.shortfall !== '0' && state.asset;
  return html`<section id="state" class="state state-${state.status}" role="status" aria-live="polite"><h2 id="state-title">${t.status[state.status] ?? state.status}</h2><p id="state-text">${underpaid ? t.underpaid(state.shortfall, state.asset ?? '') : (t.explain[state.status] ?? '')}</p><p id="confirmations">${state.confirmations && state.status !== 'complete' ? t.confirmations(state.confirmations.n, state.confirmations.of) : ''}</p></section>`;
}

function countdown(expiresAt: string, now: Date): string {
  const s = Math.max(0, Math.floor((Date.parse(expiresAt) - now.getTime()) / 1000));
  const pad = (n: number) => String(n).padStart(2, '0');
  return s >= 3600
    ? `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`
    : `${pad(Math.floor(s / 60))}:${pad(s % 60)}`;
}

export function renderNotFound(): string {
  return page({ title: t.notFound, bodyClass: 'checkout', body: html`<main><h1>${t.notFound}</h1></main>` });
}
