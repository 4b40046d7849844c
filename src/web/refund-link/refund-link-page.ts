import type { FastifyInstance } from 'fastify';
import type { Tally } from '../../context.ts';
import { TallyError } from '../../core/errors.ts';
import { formatAmount } from '../../core/money.ts';
import { findAsset, findNetwork } from '../../core/registry.ts';
import { findRefundByLink, setRefundDestination } from '../../refunds/refund-service.ts';
import { type Html, html } from '../html.ts';
import { en } from '../i18n/en.ts';
import { page } from '../layout.ts';
import { sendHtml } from '../respond.ts';

const t = en.refundLink;
type Params = { Params: { token: string } };

/**
 * The customer-facing refund link (issue 7): no login, the one-time token is the credential. The
 * customer sees what is refunded on which network and gives an address, validated for that network
 * by the refunds module; the merchant approves and signs afterwards. Same shell and CSP as checkout.
 */
export function registerRefundLink(server: FastifyInstance, tally: Tally): void {
  server.get<Params>('/refund/:token', async (request, reply) => {
    const refund = await load(tally, request.params.token);
    if (!refund) return sendHtml(request, reply, shell(html`<h1>${t.notFound}</h1>`), 404);
    return sendHtml(request, reply, render(refund, null, null));
  });

  server.post<Params & { Body: Record<string, string> }>('/refund/:token', async (request, reply) => {
    const refund = await load(tally, request.params.token);
    if (!refund) return sendHtml(request, reply, shell(html`<h1>${t.notFound}</h1>`), 404);
    const address = typeof request.body?.address === 'string' ? request.body.address.trim() : '';
    try {
      const saved = await setRefundDestination(tally, request.params.token, address);
      return sendHtml(request, reply, render({ ...refund, status: saved.status }, saved.destination, null));
    } catch (error) {
      if (!(error instanceof TallyError) || error.code === 'internal') throw error;
      return sendHtml(request, reply, render(refund, null, { message: error.message, value: address }), 422);
    }
  });
}

type Refund = Awaited<ReturnType<typeof findRefundByLink>>;

async function load(tally: Tally, token: string): Promise<Refund | null> {
  try {
    return await findRefundByLink(tally, token);
  } catch (error) {
    if (error instanceof TallyError && error.code === 'not_found') return null;
    throw error;
  }
}

function render(
  refund: Refund,
  savedAddress: string | null,
  problem: { message: string; value: string } | null,
) {
  const decimals = findAsset(refund.asset, refund.network)?.decimals ?? 0;
  const network = findNetwork(refund.network)?.name ?? refund.network;
  const facts = html`<dl><dt>${t.amount}</dt><dd>${formatAmount(refund.amount, decimals)} ${refund.asset}</dd><dt>${t.network}</dt><dd><strong>${network}</strong></dd></dl>`;
  if (savedAddress)
    return shell(html`<h1>${t.title}</h1>${facts}<p>${t.received}</p><p><code>${savedAddress}</code></p>`);
  if (refund.status !== 'awaiting_destination')
    return shell(html`<h1>${t.title}</h1>${facts}<p>${t.alreadyGiven}</p>`);
  const error =
    problem && html`<p class="error" role="alert" id="address-error">${t.error} ${problem.message}</p>`;
  return shell(
    html`<h1>${t.title}</h1>${facts}<p>${t.intro}</p>${error}<form method="post"><label for="address">${t.addressLabel(refund.asset, network)}</label><input id="address" name="address" required autocomplete="off" spellcheck="false" value="${problem?.value ?? ''}"${problem ? html` aria-invalid="true" aria-describedby="address-error"` : ''}><button type="submit">${t.submit}</button></form>`,
  );
}

function shell(body: Html): string {
  return page({ title: t.title, bodyClass: 'checkout', body: html`<main>${body}</main>` });
}
