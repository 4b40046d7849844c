import { expect } from 'vitest';
import { newId } from '../../../src/core/ids.ts';
import { formatAmount } from '../../../src/core/money.ts';
import { applyFact } from '../../../src/invoices/apply-fact.ts';
import type { Fact, ObservedPayment } from '../../../src/invoices/facts.ts';
import { bookMovement } from '../../../src/settlement/book-movement.ts';
import { reverseMovementsInBlock } from '../../../src/settlement/reverse-movement.ts';
import { DeliveryWorker } from '../../../src/webhooks/delivery-worker.ts';
import type { Harness } from '../../helpers/harness.ts';
import type { TestReceiver } from './receiver.ts';
import { INVOICE } from './setup.ts';

/** A regtest address the refunds of the scenario are paid to. */
const REFUND_ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

export type Event = { id: string; type: string; created: string; data: Record<string, unknown> };

/**
 * Produces one event of every catalogued type the way the gateway does: invoices through the API,
 * chain observations as facts through the state machine (applyFact, what the watchers call),
 * expiry through the job worker, the gap warning through the allocator's gap check, the endpoint
 * disabling through a real delivery answered 410. Returns, per type, the event a receiver would
 * get (the first of its type, or the one the scenario names).
 */
export async function produceEveryEvent(h: Harness, receiver: TestReceiver): Promise<Map<string, Event>> {
  const picked = new Map<string, Event>();
  let tx = 0;
  const txid = () => (++tx).toString(16).padStart(2, '0').repeat(32);
  const apply = async (invoiceId: string, fact: Fact) => {
    const out = await applyFact(h.tally, h.merchantId, invoiceId, fact);
    expect(out.rejected, `${fact.kind} on ${invoiceId}`).toBeNull();
    return out;
  };
  const invoice = async (extra: Record<string, unknown> = {}) => {
    const res = await h.request('POST', '/v1/invoices', { body: { ...INVOICE, ...extra } });
    expect(res.status).toBe(201);
    const option = res.body.payment_options[0];
    return {
      id: res.body.id as string,
      optionId: option.id as string,
      due: BigInt(option.amount_due_base_units),
    };
  };
  const seen = (optionId: string, amount: bigint, confirmations: number) => {
    const t = txid();
    const payment: ObservedPayment = {
      paymentId: newId('pay'),
      optionId,
      txid: t,
      outputIndex: 0,
      amount,
      rbf: false,
      confirmations,
      blockHash: confirmations > 0 ? t.split('').reverse().join('') : null,
      blockHeight: confirmations > 0 ? 100 : null,
    };
    return { kind: 'payment_seen' as const, id: `seen:${t}`, payment };
  };
  /** Keeps the first event of each type on the invoice (or matching `when`) that is not picked yet. */
  const pick = async (invoiceId: string | null, when: (e: Event) => boolean = () => true) => {
    const q = invoiceId ? `&invoice_id=${invoiceId}` : '';
    const feed = await h.request('GET', `/v1/events?limit=100${q}`);
    for (const e of feed.body.data as Event[]) if (!picked.has(e.type) && when(e)) picked.set(e.type, e);
  };

  // A: two confirmations required: detected → confirming → paid, fulfilled, refunded in two parts,
  // the second part then reverted by a reorg.
  const a = await invoice({
    policy: { confirmation_tiers: { 'bitcoin-regtest': [{ max_value: null, confirmations: 2 }] } },
  });
  const aPay = await apply(a.id, seen(a.optionId, a.due, 0));
  const aPaymentId = aPay.invoice.payments[0]?.id as string;
  const block = (n: number): Fact => ({
    kind: 'payment_confirmations',
    id: `conf:${n}`,
    paymentId: aPaymentId,
    confirmations: n,
    blockHash: 'ab'.repeat(32),
    blockHeight: 100,
  });
  await apply(a.id, block(1));
  await apply(a.id, block(2));
  expect(
    (await h.request('POST', `/v1/invoices/${a.id}/fulfilment`, { body: { reference: 'ship-1' } })).status,
  ).toBe(200);
  // Two refunds of invoice A, each asked for and approved through the API, then paid by a
  // transaction the watcher books (bookMovement, what recordMovement calls for a mined refund):
  // each completes with its own `refund.completed`.
  const approver = await h.keyWithScopes(['admin']);
  const refunds: Record<string, { id: string; owed: bigint }> = {};
  for (const [reason, ask] of [
    ['first half', { kind: 'partial', amount: formatAmount(a.due / 2n, 8) }],
    ['the rest', { kind: 'full' }],
  ] as const) {
    const asked = await h.request('POST', `/v1/invoices/${a.id}/refunds`, {
      body: { ...ask, destination: REFUND_ADDRESS, reason },
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    const approved = await h.request('POST', `/v1/refunds/${asked.body.id}/approve`, {
      token: approver,
      body: { reason: 'customer returned the goods' },
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    refunds[reason] = { id: asked.body.id, owed: BigInt(asked.body.amount_base_units) };
  }
  const paidBy = async (refund: { id: string; owed: bigint }, blockHash: string) => {
    const movement = await h.tally.database.write((trx) =>
      bookMovement(h.tally, trx, {
        merchantId: h.merchantId,
        network: 'bitcoin-regtest',
        asset: 'BTC',
        txid: txid(),
        logIndex: -1,
        block: { hash: blockHash, height: 102, seenAt: h.clock.now() },
        value: refund.owed,
        fee: 0n,
        refund: { id: refund.id, invoiceId: a.id, owed: refund.owed, output: refund.owed, completed: false },
        outputs: [],
        inputs: [],
      }),
    );
    expect(movement).not.toBeNull();
  };
  await paidBy(refunds['first half'] as { id: string; owed: bigint }, 'e1'.repeat(32));
  await paidBy(refunds['the rest'] as { id: string; owed: bigint }, 'e2'.repeat(32));
  // The second refund's block is orphaned: the watcher's roll-back reverses its movement and the
  // refund (src/refunds/revert-refund.ts), and the invoice is partially refunded again.
  await h.tally.database.write((trx) =>
    reverseMovementsInBlock(h.tally, trx, 'bitcoin-regtest', 'e2'.repeat(32)),
  );
  await pick(a.id);

  // B: paid, reorged out (an exception: it was paid), double-spent, then mined after all; resolved.
  const b = await invoice();
  const bPay = await apply(b.id, seen(b.optionId, b.due, 1));
  const bPaymentId = bPay.invoice.payments[0]?.id as string;
  await apply(b.id, { kind: 'payment_reorged', id: 'reorg:b', paymentId: bPaymentId });
  await apply(b.id, {
    kind: 'payment_removed',
    id: 'removed:b',
    paymentId: bPaymentId,
    reason: 'double_spent',
  });
  await apply(b.id, {
    kind: 'payment_confirmations',
    id: 'restored:b',
    paymentId: bPaymentId,
    confirmations: 1,
    blockHash: 'cd'.repeat(32),
    blockHeight: 101,
  });
  const exceptions = await h.request('GET', '/v1/exceptions');
  const reorgException = exceptions.body.data.find((x: { invoice_id: string }) => x.invoice_id === b.id);
  const resolved = await h.request('POST', `/v1/exceptions/${reorgException.id}/resolve`, {
    body: { resolution: 'accepted', reason: 'mined after all; nothing to do' },
  });
  expect(resolved.status).toBe(200);
  await pick(b.id);

  // C underpaid (half), D overpaid (double: an exception too), E cancelled, F failed by an operator.
  const c = await invoice();
  await apply(c.id, seen(c.optionId, c.due / 2n, 1));
  await pick(c.id);
  const d = await invoice();
  await apply(d.id, seen(d.optionId, d.due * 2n, 1));
  await pick(d.id);
  const e = await invoice();
  expect((await h.request('POST', `/v1/invoices/${e.id}/cancel`)).status).toBe(200);
  await pick(e.id);
  const f = await invoice();
  const failed = await h.request('POST', `/v1/invoices/${f.id}/actions`, {
    body: { action: 'mark_failed', reason: 'customer abandoned the order' },
  });
  expect(failed.status).toBe(200);
  await pick(f.id);

  // G: expires (the job worker, 16 minutes on), then is paid in full inside the monitoring window.
  const g = await invoice();
  h.clock.advance(16 * 60_000);
  while ((await h.worker.runDue()) > 0) {}
  await apply(g.id, seen(g.optionId, g.due, 1));
  await pick(g.id);

  // The allocator arms a gap check per allocation; 16 unpaid addresses after the last paid warn.
  for (let i = 0; i < 16; i++) await invoice();
  while ((await h.worker.runDue()) > 0) {}
  await pick(null, (ev) => ev.type === 'wallet.gap_warning');

  // A test event to an endpoint answering 410 Gone: the delivery disables it, an event says why.
  receiver.answer = () => ({ status: 410, body: 'gone' });
  const ep = await h.request('POST', '/v1/webhook-endpoints', {
    body: { url: receiver.url, description: 'orders service' },
  });
  expect((await h.request('POST', `/v1/webhook-endpoints/${ep.body.id}/test`)).status).toBe(200);
  const worker = new DeliveryWorker(h.tally);
  try {
    await worker.runOnce();
  } finally {
    await worker.stop();
  }
  await pick(null, (ev) => ev.type === 'webhook.test' || ev.type === 'webhook_endpoint.disabled');
  return picked;
}
