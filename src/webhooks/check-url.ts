import { type FieldIssue, validationError } from '../core/errors.ts';
import { type AllowList, forbiddenReason, resolveHost, urlHost } from './ssrf-guard.ts';

/**
 * A webhook URL at creation or change: http(s), no credentials in it (they would be sent to, and
 * logged by, whatever the host is), and a host that resolves only to addresses the SSRF guard
 * allows. Refusals are 422 naming `url`, as other fields are named by their path in the body; the delivery worker checks again at every connection.
 */
export async function checkWebhookUrl(raw: string, allow: AllowList): Promise<string> {
  const refuse = (message: string) => validationError([{ path: 'url', message } satisfies FieldIssue]);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse('must be an http or https URL');
  if (url.username !== '' || url.password !== '') throw refuse('must not contain credentials');
  if (url.hash !== '') throw refuse('must not contain a fragment');
  const host = urlHost(url);
  let addresses: string[];
  try {
    addresses = await resolveHost(host);
  } catch {
    throw refuse(`host ${host} does not resolve`);
  }
  if (addresses.length === 0) throw refuse(`host ${host} does not resolve`);
  for (const address of addresses) {
    const reason = forbiddenReason(address, allow);
    if (reason)
      throw refuse(
        `resolves to a refused address (${reason}), to protect the gateway's network; an operator can allow it with TALLY_WEBHOOK_ALLOWED_NETWORKS`,
      );
  }
  return url.toString();
}
