/**
 * Applying facts through storage: replays are no-ops, transitions are unique on their cause at the
 * database level, and a payment sequence persists payments, transitions, exceptions and outbox
 * events whose per-invoice sequence numbers strictly increase and match their snapshots.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.ts';
import { type ApplyOutcome, applyFact } from '../../src/invoices/apply-fact.ts';
import { createInvoice } from '../../src/invoices/create-invoice.ts';
import type { Fact, ObservedPayment } from '../../src/invoices/facts.ts';
import { loadInvoice } from '../../src/invoices/invoice-store.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

const OPERATOR = { kind: 'api_key' as const, id: 'key_test' };

interface EventRow {
  id: string;
  type: string;
  sequence: number;
  payload: string;
}

describe.each(DATABASES)('applying facts on $name', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh());
  });
  afterAll(async () => h?.close());

  /** An ETH invoice on Ethereum: 12 confirmations required, so confirming is a visible stage. */
  const newEthInvoice = async () => {
    const invoice = await createInvoice(h.tally, h.merchantId, {
      price: { amount: '1', currency: 'ETH' },
      payment_options: [{ asset: 'ETH', network: 'ethereum' }],
    });
    const option = invoice.payment_options[0];
    if (!option) throw new Error('no option');
    return { invoice, option, due: BigInt(option.amount_due_base_units) };
  };

  const transitionsOf = (invoiceId: string) =>
    h.tally.database.db
      .selectFrom('transitions')
      .select(['from_status', 'to_status', 'cause_id', 'cause_kind', 'actor_id', 'reason'])
      .where('invoice_id', '=', invoiceId)
      .orderBy('id')
      .execute();

  const eventsOf = (invoiceId: string): Promise<EventRow[]> =>
    h.tally.database.db
      .selectFrom('events')
      .select(['id', 'type', 'sequence', 'payload'])
      .where('invoice_id', '=', invoiceId)
      .orderBy('id')
      .execute();

  const observed = (optionId: string, n: number, amount: bigint, confirmations = 0): ObservedPayment => ({
    paymentId: `pay_${n}_${newId('pay').slice(4, 14)}`,
    optionId,
    txid: `0x${n.toString(16).padStart(64, '0')}`,
    outputIndex: 0,
    amount,
    rbf: false,
    confirmations,
    blockHash: confirmations > 0 ? `0x${'1'.repeat(64)}` : null,
    blockHeight: confirmations > 0 ? 100 : null,
  });

  /** Events strictly increase in insertion order, are contiguous from 1, and carry their own sequence. */
  const assertEventSequence = async (invoiceId: string): Promise<EventRow[]> => {
    const events = await eventsOf(invoiceId);
    const sequences = events.map((e) => e.sequence);
    expect(sequences).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    for (const e of events) {
      const payload = JSON.parse(e.payload) as {
        id: string;
        type: string;
        data: { invoice: { id: string; sequence: number } };
      };
      expect(payload.id).toBe(e.id);
      expect(payload.type).toBe(e.type);
      expect(payload.data.invoice.id).toBe(invoiceId);
      expect(payload.data.invoice.sequence).toBe(e.sequence);
    }
    const row = await h.tally.database.db
      .selectFrom('invoices')
      .select('sequence')
      .where('id', '=', invoiceId)
      .executeTakeFirstOrThrow();
    expect(row.sequence).toBe(sequences.at(-1));
    return events;
  };

  it('applying the same fact id twice writes one transition and one set of events', async () => {
    const { invoice } = await newEthInvoice();
    const cancel: Fact = { kind: 'merchant_cancel', id: 'cancel:1', actor: OPERATOR };
    const first = await applyFact(h.tally, h.merchantId, invoice.id, cancel);
    expect(first).toMatchObject({ changed: true, duplicate: false, rejected: null });
    expect(first.invoice.status).toBe('cancelled');
    const eventsAfterFirst = await eventsOf(invoice.id);

    const second = await applyFact(h.tally, h.merchantId, invoice.id, cancel);
    expect(second).toMatchObject({ changed: false, duplicate: true });
    expect(second.invoice.sequence).toBe(first.invoice.sequence);

    const transitions = await transitionsOf(invoice.id);
    expect(transitions.filter((t) => t.cause_id === 'cancel:1')).toHaveLength(1);
    expect(transitions.map((t) => t.to_status)).toEqual(['awaiting_payment', 'cancelled']);
    expect(await eventsOf(invoice.id)).toEqual(eventsAfterFirst);
    expect(eventsAfterFirst.map((e) => e.type)).toEqual(['invoice.awaiting_payment', 'invoice.cancelled']);
    const facts = await h.tally.database.db
      .selectFrom('applied_facts')
      .select('fact_id')
      .where('invoice_id', '=', invoice.id)
      .execute();
    expect(facts.filter((f) => f.fact_id === 'cancel:1')).toHaveLength(1);
  });

  it('the same payment fact delivered concurrently is applied exactly once', async () => {
    const { invoice, option, due } = await newEthInvoice();
    const fact: Fact = { kind: 'payment_seen', id: 'seen:tx1', payment: observed(option.id, 1, due) };
    const outcomes: ApplyOutcome[] = await Promise.all(
      Array.from({ length: 8 }, () => applyFact(h.tally, h.merchantId, invoice.id, fact)),
    );
    expect(outcomes.filter((o) => o.changed)).toHaveLength(1);
    expect(outcomes.filter((o) => o.duplicate)).toHaveLength(7);
    const payments = await h.tally.database.db
      .selectFrom('payments')
      .select('id')
      .where('invoice_id', '=', invoice.id)
      .execute();
    expect(payments).toHaveLength(1);
    const events = await assertEventSequence(invoice.id);
    expect(events.map((e) => e.type)).toEqual([
      'invoice.awaiting_payment',
      'payment.detected',
      'invoice.detected',
    ]);
    expect((await transitionsOf(invoice.id)).map((t) => t.to_status)).toEqual([
      'awaiting_payment',
      'detected',
    ]);
  });

  it('transitions are unique on (invoice, cause, to_status) in the database itself', async () => {
    const { invoice } = await newEthInvoice();
    const [existing] = await h.tally.database.db
      .selectFrom('transitions')
      .selectAll()
      .where('invoice_id', '=', invoice.id)
      .execute();
    if (!existing) throw new Error('no transition');
    await expect(
      h.tally.database.db
        .insertInto('transitions')
        .values({ ...existing, id: newId('trn'), reason: 'a second row for the same cause' })
        .execute(),
    ).rejects.toThrow(/unique|duplicate/i);
    // Same cause with another target status, or another cause with the same target, is a different row.
    await h.tally.database.db
      .insertInto('transitions')
      .values({ ...existing, id: newId('trn'), to_status: 'cancelled' })
      .execute();
    await h.tally.database.db
      .insertInto('transitions')
      .values({ ...existing, id: newId('trn'), cause_id: 'another-cause' })
      .execute();
    // And an applied fact id is recorded once per invoice.
    await h.tally.database.db
      .insertInto('applied_facts')
      .values({ invoice_id: invoice.id, fact_id: 'f:1', created_at: new Date().toISOString() })
      .execute();
    await expect(
      h.tally.database.db
        .insertInto('applied_facts')
        .values({ invoice_id: invoice.id, fact_id: 'f:1', created_at: new Date().toISOString() })
        .execute(),
    ).rejects.toThrow(/unique|duplicate|primary/i);
    expect(await transitionsOf(invoice.id)).toHaveLength(3);
  });

  it('a payment and confirmation sequence persists payments, transitions, exceptions and ordered events', async () => {
    const { invoice, option, due } = await newEthInvoice();
    expect(option.required_confirmations).toBe(12);
    const half = due / 2n;
    const p1 = observed(option.id, 11, half);
    const p2 = observed(option.id, 12, due - half + due / 4n); // completes and overpays by 25%
    const p3 = observed(option.id, 13, due); // arrives after settlement
    const conf = (id: string, payment: ObservedPayment, confirmations: number): Fact => ({
      kind: 'payment_confirmations',
      id,
      paymentId: payment.paymentId,
      confirmations,
      blockHash: `0x${'2'.repeat(64)}`,
      blockHeight: 200,
    });
    const facts: Fact[] = [
      { kind: 'payment_seen', id: 'seen:p1', payment: p1 },
      conf('conf:p1:3', p1, 3),
      { kind: 'payment_seen', id: 'seen:p2', payment: p2 },
      conf('conf:p1:12', p1, 12),
      conf('conf:p2:1', p2, 1),
      conf('conf:p2:12', p2, 12),
      { kind: 'payment_seen', id: 'seen:p3', payment: p3 },
    ];
    const statuses: string[] = [];
    for (const fact of facts) {
      h.clock.advance(1000);
      const outcome = await applyFact(h.tally, h.merchantId, invoice.id, fact);
      expect(outcome.rejected, fact.id).toBeNull();
      statuses.push(outcome.invoice.status);
      // Every fact replayed straight away changes nothing.
      const replay = await applyFact(h.tally, h.merchantId, invoice.id, fact);
      expect(replay.duplicate, fact.id).toBe(true);
    }
    expect(statuses).toEqual([
      'detected',
      'confirming',
      'confirming',
      'confirming',
      'confirming',
      'overpaid',
      'overpaid',
    ]);

    const stored = await loadInvoice(h.tally.database.db, h.tally.database.dialect, h.merchantId, invoice.id);
    expect(stored?.status).toBe('overpaid');
    const payments = new Map((stored?.payments ?? []).map((p) => [p.id, p]));
    expect(payments.size).toBe(3);
    expect(payments.get(p1.paymentId)).toMatchObject({ amount: half, confirmations: 12, credited: true });
    expect(payments.get(p2.paymentId)).toMatchObject({ confirmations: 12, credited: true, blockHeight: 200 });
    expect(payments.get(p3.paymentId)).toMatchObject({ amount: due, confirmations: 0, credited: false });

    const transitions = await transitionsOf(invoice.id);
    expect(transitions.map((t) => [t.from_status, t.to_status, t.cause_id])).toEqual([
      ['created', 'awaiting_payment', 'options_assigned'],
      ['awaiting_payment', 'detected', 'seen:p1'],
      ['detected', 'confirming', 'conf:p1:3'],
      ['confirming', 'overpaid', 'conf:p2:12'],
    ]);

    const exceptions = await h.tally.database.db
      .selectFrom('exceptions')
      .select(['id', 'kind', 'payment_id', 'status'])
      .where('invoice_id', '=', invoice.id)
      .orderBy('id')
      .execute();
    expect(exceptions.map((e) => e.kind)).toEqual(['overpayment', 'duplicate_payment']);
    expect(exceptions[1]?.payment_id).toBe(p3.paymentId);
    expect(exceptions.every((e) => e.status === 'open')).toBe(true);

    const events = await assertEventSequence(invoice.id);
    expect(events.map((e) => e.type)).toEqual([
      'invoice.awaiting_payment',
      'payment.detected',
      'invoice.detected',
      'invoice.confirming',
      'payment.detected',
      'payment.confirmed',
      'payment.confirmed',
      'exception.opened',
      'invoice.overpaid',
      'payment.detected',
      'exception.opened',
    ]);
    // Exception events name the stored exception rows.
    const opened = events
      .filter((e) => e.type === 'exception.opened')
      .map(
        (e) =>
          (JSON.parse(e.payload) as { data: { exception: { id: string; kind: string } } }).data.exception,
      );
    expect(opened.map((x) => x.id)).toEqual(exceptions.map((x) => x.id));
    expect(opened.map((x) => x.kind)).toEqual(['overpayment', 'duplicate_payment']);
    // The last event's snapshot is the invoice as stored.
    const last = JSON.parse(events.at(-1)?.payload ?? '{}') as { data: { invoice: { status: string } } };
    expect(last.data.invoice.status).toBe('overpaid');
  });

  it('distinct facts applied concurrently still get unique, contiguous sequence numbers', async () => {
    const { invoice, option, due } = await newEthInvoice();
    const payment = observed(option.id, 21, due);
    await applyFact(h.tally, h.merchantId, invoice.id, { kind: 'payment_seen', id: 'seen:c', payment });
    const outcomes = await Promise.all(
      Array.from({ length: 11 }, (_, i) =>
        applyFact(h.tally, h.merchantId, invoice.id, {
          kind: 'payment_confirmations',
          id: `conf:c:${i + 1}`,
          paymentId: payment.paymentId,
          confirmations: i + 1,
          blockHash: `0x${(i + 1).toString(16).padStart(64, '0')}`,
          blockHeight: 300 + i,
        }),
      ),
    );
    expect(outcomes.every((o) => o.rejected === null || o.rejected === 'no change')).toBe(true);
    await assertEventSequence(invoice.id);
    const facts = await h.tally.database.db
      .selectFrom('applied_facts')
      .select('fact_id')
      .where('invoice_id', '=', invoice.id)
      .execute();
    expect(facts.length).toBe(1 + outcomes.filter((o) => o.changed).length);
    const versions = await h.tally.database.db
      .selectFrom('invoices')
      .select('version')
      .where('id', '=', invoice.id)
      .executeTakeFirstOrThrow();
    expect(versions.version).toBe(1 + facts.length);
  });
});
