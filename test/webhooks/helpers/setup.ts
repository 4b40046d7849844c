import { expect } from 'vitest';
import type { Tally } from '../../../src/context.ts';
import type { ManualClock } from '../../../src/core/clock.ts';
import { toDate } from '../../../src/db/values.ts';
import type { Harness } from '../../helpers/harness.ts';
import type { TestReceiver } from './receiver.ts';

export const INVOICE = {
  price: { amount: '10.00', currency: 'USD' },
  payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
};

/** Registers the receiver as an endpoint and hands it the secret to verify with. */
export async function addEndpoint(h: Harness, receiver: TestReceiver, body: Record<string, unknown> = {}) {
  const res = await h.request('POST', '/v1/webhook-endpoints', { body: { url: receiver.url, ...body } });
  expect(res.status).toBe(201);
  receiver.secret = res.body.secret;
  return res.body as { id: string; secret: string };
}

export async function createInvoices(h: Harness, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await h.request('POST', '/v1/invoices', { body: INVOICE });
    expect(res.status).toBe(201);
    ids.push(res.body.id);
  }
  return ids;
}

/** When the earliest pending delivery is due next, or null if none is pending. */
export async function nextDue(tally: Tally): Promise<Date | null> {
  const next = await tally.database.db
    .selectFrom('webhook_deliveries')
    .select('next_attempt_at')
    .where('status', '=', 'pending')
    .orderBy('next_attempt_at')
    .limit(1)
    .executeTakeFirst();
  return next ? toDate(next.next_attempt_at) : null;
}

/** Moves the manual clock to the earliest pending delivery's next attempt; false if none is pending. */
export async function advanceToNextDue(tally: Tally, clock: ManualClock): Promise<boolean> {
  const at = await nextDue(tally);
  if (!at) return false;
  if (at > clock.now()) clock.set(at);
  return true;
}

export async function deliveriesOf(tally: Tally, endpointId: string) {
  return tally.database.db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .orderBy('id')
    .execute();
}
