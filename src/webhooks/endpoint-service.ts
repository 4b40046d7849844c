import type { Selectable, Transaction } from 'kysely';
import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Schema, WebhookEndpointsTable } from '../db/schema.ts';
import { isFlagSet, iso, toDateOrNull } from '../db/values.ts';
import { eventRow } from '../invoices/effect-rows.ts';
import { checkWebhookUrl } from './check-url.ts';
import { generateSecret } from './signature.ts';
import { AllowList } from './ssrf-guard.ts';

export interface EndpointInput {
  url: string;
  events?: string[] | undefined;
  description?: string | undefined;
  enabled?: boolean | undefined;
}

type Row = Selectable<WebhookEndpointsTable>;
type StoreResponse = (trx: Transaction<Schema>, body: unknown) => Promise<void>;

/** The endpoint as the API shows it: never its secret (that is shown once, at creation or rotation). */
export function serializeEndpoint(r: Row) {
  const previousUntil = toDateOrNull(r.previous_secret_expires_at);
  return {
    id: r.id,
    object: 'webhook_endpoint' as const,
    url: r.url,
    description: r.description,
    events: JSON.parse(r.event_types) as string[],
    enabled: isFlagSet(r.enabled),
    disabled_reason: r.disabled_reason,
    disabled_at: toDateOrNull(r.disabled_at)?.toISOString() ?? null,
    failing_since: toDateOrNull(r.failing_since)?.toISOString() ?? null,
    previous_secret_expires_at: previousUntil?.toISOString() ?? null,
    created_at: toDateOrNull(r.created_at)?.toISOString() ?? null,
    updated_at: toDateOrNull(r.updated_at)?.toISOString() ?? null,
  };
}

const allowListOf = (tally: Tally) => new AllowList(tally.config.webhookAllowedNetworks);

export async function createEndpoint(
  tally: Tally,
  merchantId: string,
  input: EndpointInput,
  storeIdempotent?: StoreResponse,
) {
  const url = await checkWebhookUrl(input.url, allowListOf(tally));
  const now = iso(tally.clock.now());
  const row: Row = {
    id: newId('whe'),
    merchant_id: merchantId,
    url,
    description: input.description ?? null,
    event_types: JSON.stringify(input.events ?? ['*']),
    enabled: input.enabled === false ? 0 : 1,
    disabled_reason: input.enabled === false ? 'created disabled' : null,
    disabled_at: input.enabled === false ? now : null,
    secret: generateSecret(),
    previous_secret: null,
    previous_secret_expires_at: null,
    failing_since: null,
    created_at: now,
    updated_at: now,
  };
  return tally.database.write(async (trx) => {
    await trx.insertInto('webhook_endpoints').values(row).execute();
    const shown = serializeEndpoint(row);
    // The secret is shown once: a replayed creation answers without it.
    await storeIdempotent?.(trx, { ...shown, secret: null });
    return { ...shown, secret: row.secret };
  });
}

export async function loadEndpoint(tally: Tally, merchantId: string, id: string): Promise<Row> {
  const row = await tally.database.read
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst();
  if (!row) throw new TallyError('not_found', `No webhook endpoint ${id}.`);
  return row;
}

export async function listEndpoints(tally: Tally, merchantId: string) {
  const rows = await tally.database.read
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('id')
    .execute();
  return { object: 'list' as const, data: rows.map(serializeEndpoint), has_more: false, next_cursor: null };
}

/** Re-enabling clears the disabled reason and the run of failures: the merchant says it is fixed. */
export async function updateEndpoint(
  tally: Tally,
  merchantId: string,
  id: string,
  input: Partial<EndpointInput>,
) {
  await loadEndpoint(tally, merchantId, id);
  const url = input.url === undefined ? undefined : await checkWebhookUrl(input.url, allowListOf(tally));
  const now = iso(tally.clock.now());
  await tally.database.write(async (trx) => {
    const set: Partial<Row> = { updated_at: now };
    if (url !== undefined) set.url = url;
    if (input.description !== undefined) set.description = input.description;
    if (input.events !== undefined) set.event_types = JSON.stringify(input.events);
    if (input.enabled === true)
      Object.assign(set, { enabled: 1, disabled_reason: null, disabled_at: null, failing_since: null });
    if (input.enabled === false)
      Object.assign(set, { enabled: 0, disabled_reason: 'disabled by the merchant', disabled_at: now });
    await trx
      .updateTable('webhook_endpoints')
      .set(set)
      .where('id', '=', id)
      .where('merchant_id', '=', merchantId)
      .execute();
    if (input.enabled === false) {
      await trx
        .updateTable('webhook_deliveries')
        .set({ status: 'cancelled', last_error: 'endpoint disabled by the merchant', updated_at: now })
        .where('endpoint_id', '=', id)
        .where('status', '=', 'pending')
        .execute();
    }
  });
  return serializeEndpoint(await loadEndpoint(tally, merchantId, id));
}

/**
 * A new secret, shown once. The old one stays valid for `overlapSeconds`: until then every
 * delivery carries both signatures, so receivers can switch secrets without dropping a webhook.
 */
export async function rotateSecret(tally: Tally, merchantId: string, id: string, overlapSeconds: number) {
  const current = await loadEndpoint(tally, merchantId, id);
  const now = tally.clock.now();
  const secret = generateSecret();
  await tally.database.write((trx) =>
    trx
      .updateTable('webhook_endpoints')
      .set({
        secret,
        previous_secret: overlapSeconds > 0 ? current.secret : null,
        previous_secret_expires_at:
          overlapSeconds > 0 ? iso(new Date(now.getTime() + overlapSeconds * 1000)) : null,
        updated_at: iso(now),
      })
      .where('id', '=', id)
      .where('secret', '=', current.secret)
      .execute(),
  );
  return { ...serializeEndpoint(await loadEndpoint(tally, merchantId, id)), secret };
}

/** A `webhook.test` event delivered to this endpoint only (its delivery row is written with it). */
export async function sendTestEvent(tally: Tally, merchantId: string, id: string) {
  const endpoint = await loadEndpoint(tally, merchantId, id);
  if (!isFlagSet(endpoint.enabled))
    throw new TallyError('invalid_state', 'The endpoint is disabled; enable it first.');
  const now = tally.clock.now();
  const event = eventRow(
    merchantId,
    null,
    'webhook.test',
    0,
    { endpoint_id: id, message: 'Test event from Tally' },
    now,
  );
  const deliveryId = newId('whd');
  await tally.database.write(async (trx) => {
    await trx.insertInto('events').values(event).execute();
    await trx
      .insertInto('webhook_deliveries')
      .values({
        id: deliveryId,
        merchant_id: merchantId,
        endpoint_id: id,
        event_id: event.id,
        status: 'pending',
        attempts: 0,
        next_attempt_at: iso(now),
        created_at: iso(now),
        updated_at: iso(now),
      })
      .execute();
  });
  return { object: 'webhook_test' as const, event_id: event.id, delivery_id: deliveryId };
}
