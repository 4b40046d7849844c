import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { recordPayment } from '../helpers/record-payment.ts';

/**
 * What is still refundable is read and the refund recorded in one write transaction, serialised per
 * invoice (the invoice row's lock on PostgreSQL, the single writer on SQLite): requests sent in
 * parallel never promise more than was received, and approval checks again before committing money.
 */
describe.each(DATABASES)('parallel refunds on $name', ({ fresh }) => {
  let h: Harness;
  let approver: string;
  beforeAll(async () => {
    h = await createHarness(await fresh());
    approver = await h.keyWithScopes(['admin']);
  });
  afterAll(async () => h?.close());

  const CUSTOMER = '0x000000000000000000000000000000000000beef';
  /** More requests than the PostgreSQL pool has connections, so some wait for one as well as for the lock. */
  const PARALLEL = 16;

  /** A 19.99 USDC invoice on a test network, paid exactly: 19_990_000 base units received. */
  async function paidInvoice(): Promise<{ id: string; received: bigint }> {
    const created = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '19.99', currency: 'USD' },
        payment_options: [{ asset: 'USDC', network: 'base-sepolia' }],
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const option = created.body.payment_options[0];
    const outcome = await recordPayment(h, created.body.id, option, { confirmations: 64 });
    expect(outcome.changed).toBe(true);
    const received = BigInt(option.amount_due_base_units);
    expect(received).toBe(19_990_000n);
    return { id: created.body.id as string, received };
  }

  const askInParallel = (invoiceId: string, body: (i: number) => Record<string, unknown>) =>
    Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        h.request('POST', `/v1/invoices/${invoiceId}/refunds`, {
          body: { destination: CUSTOMER, reason: `race ${i}`, ...body(i) },
        }),
      ),
    );

  /** Every refund the database holds for the invoice, whatever the responses said. */
  const storedRefunds = async (invoiceId: string) =>
    h.tally.database.db
      .selectFrom('refunds')
      .selectAll()
      .where('invoice_id', '=', invoiceId)
      .orderBy('id')
      .execute();
  const sum = (amounts: string[]) => amounts.reduce((s, a) => s + BigInt(a), 0n);

  it('accepts one of many parallel full refunds; the others get 409 invalid_state', async () => {
    const inv = await paidInvoice();
    const responses = await askInParallel(inv.id, () => ({ kind: 'full' }));
    const accepted = responses.filter((r) => r.status === 201);
    const refused = responses.filter((r) => r.status !== 201);
    expect(accepted).toHaveLength(1);
    expect(accepted[0]?.body.amount_base_units).toBe(inv.received.toString());
    expect(refused).toHaveLength(PARALLEL - 1);
    for (const r of refused) {
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('invalid_state');
    }
    const stored = await storedRefunds(inv.id);
    expect(stored.map((r) => r.id)).toEqual([accepted[0]?.body.id]);
    expect(sum(stored.map((r) => r.amount))).toBeLessThanOrEqual(inv.received);
  });

  it('accepts parallel partial refunds only while they fit; the others get 422 naming amount', async () => {
    const inv = await paidInvoice();
    // 3 USDC each: six fit in 19.99 (18.00), the seventh would need 21.00.
    const responses = await askInParallel(inv.id, () => ({ kind: 'partial', amount: '3' }));
    const accepted = responses.filter((r) => r.status === 201);
    expect(accepted).toHaveLength(6);
    expect(sum(accepted.map((r) => r.body.amount_base_units))).toBe(18_000_000n);
    for (const r of responses.filter((r) => r.status !== 201)) {
      expect(r.status).toBe(422);
      expect(r.body.error.code).toBe('validation_failed');
      expect(r.body.error.details.issues[0].path).toBe('amount');
    }
    const stored = await storedRefunds(inv.id);
    expect(stored).toHaveLength(6);
    expect(sum(stored.map((r) => r.amount))).toBeLessThanOrEqual(inv.received);
  });

  it('approval re-checks: of refunds promising more than received, only those that fit are approved', async () => {
    const inv = await paidInvoice();
    // Three 5 USDC refunds asked the proper way (15.00 of 19.99)...
    const requested = [];
    for (const reason of ['one', 'two', 'three']) {
      const r = await h.request('POST', `/v1/invoices/${inv.id}/refunds`, {
        body: { kind: 'partial', amount: '5', destination: CUSTOMER, reason },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      requested.push(r);
    }
    // ...and five more stored directly, 40.00 promised in all: what the race above recorded before
    // requests were serialised, and what a payment removed by a reorg can still leave behind.
    const [row] = await storedRefunds(inv.id);
    if (!row) throw new Error('the requested refunds are stored');
    const extra = Array.from({ length: 5 }, () => newId('ref'));
    await h.tally.database.write(async (trx) => {
      for (const id of extra)
        await trx
          .insertInto('refunds')
          .values({ ...row, id, reason: 'recorded by the race' })
          .execute();
    });

    const approve = (id: string) =>
      h.request('POST', `/v1/refunds/${id}/approve`, { token: approver, body: { reason: 'checked' } });
    const ids = [...requested.map((r) => r.body.id as string), ...extra];
    const results = await Promise.all(ids.map(approve));
    // Any three fit in 19.99; a fourth (20.00) never does, whichever approvals come first.
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    const refused = results.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(5);
    for (const r of refused) {
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('invalid_state');
      expect(r.body.error.message).toContain('more than the 19.99 USDC received');
    }

    // Nothing half-written: the refused ones are still pending, with no approver recorded.
    const stored = await storedRefunds(inv.id);
    const approved = stored.filter((r) => r.status === 'approved');
    expect(sum(approved.map((r) => r.amount))).toBe(15_000_000n);
    const pending = stored.filter((r) => r.status === 'pending_approval');
    expect(pending).toHaveLength(5);
    expect(pending.map((r) => r.approved_by)).toEqual([null, null, null, null, null]);

    // Once an approved one is cancelled, its money is free again and a pending one can be approved.
    const cancelled = await h.request('POST', `/v1/refunds/${approved[0]?.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect((await approve(pending[0]?.id as string)).status).toBe(200);
    expect((await approve(pending[1]?.id as string)).status).toBe(409);
  });
});
