/**
 * The event catalogue, its documentation and the events the gateway really emits agree: every
 * type is documented in docs/events.md, every event of a full invoice lifecycle is a catalogued
 * type, and the payload shape is pinned by inline snapshots (ids and times masked).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.ts';
import { applyFact } from '../../src/invoices/apply-fact.ts';
import { EVENT_CATALOGUE, EVENT_TYPES } from '../../src/webhooks/event-catalogue.ts';
import { freshSqlite } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { INVOICE } from './helpers/setup.ts';

/** Replaces ids, times, addresses and txids by placeholders so snapshots are stable. */
function mask(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value)
      .replace(/"([a-z]{3})_[0-9a-z]{26}"/g, '"$1_…"')
      .replace(/"\d{4}-\d\d-\d\dT[\d:.]+Z"/g, '"<time>"')
      .replace(/bcrt1[0-9a-z]{20,}/g, '<address>')
      .replace(/"[0-9a-f]{64}"/g, '"<hex>"'),
  );
}

describe('event catalogue', () => {
  let h: Harness;
  const byType = new Map<string, Record<string, unknown>>();
  beforeAll(async () => {
    h = await createHarness(await freshSqlite());
    const paid = await h.request('POST', '/v1/invoices', { body: { ...INVOICE, merchant_order_id: '1001' } });
    const option = paid.body.payment_options[0];
    await applyFact(h.tally, h.merchantId, paid.body.id, {
      kind: 'payment_seen',
      id: 'seen:catalogue',
      payment: {
        paymentId: newId('pay'),
        optionId: option.id,
        txid: 'ab'.repeat(32),
        outputIndex: 0,
        amount: BigInt(option.amount_due_base_units),
        rbf: false,
        confirmations: 6,
        blockHash: 'cd'.repeat(32),
        blockHeight: 100,
      },
    });
    await h.request('POST', `/v1/invoices/${paid.body.id}/fulfilment`, { body: { reference: 'shipment-1' } });
    const other = await h.request('POST', '/v1/invoices', { body: INVOICE });
    await h.request('POST', `/v1/invoices/${other.body.id}/cancel`);
    const ep = await h.request('POST', '/v1/webhook-endpoints', { body: { url: 'http://127.0.0.1:9/x' } });
    await h.request('POST', `/v1/webhook-endpoints/${ep.body.id}/test`);
    const feed = await h.request('GET', '/v1/events?limit=100');
    for (const e of feed.body.data) byType.set(e.type, e);
  });
  afterAll(async () => h?.close());

  it('documents every type in docs/events.md', () => {
    const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
    expect(EVENT_TYPES.filter((t) => !doc.includes(`\`${t}\``))).toEqual([]);
    expect(EVENT_TYPES.length).toBeGreaterThanOrEqual(20);
  });

  it('emits only catalogued types in a full lifecycle', () => {
    expect([...byType.keys()].sort()).toEqual([
      'invoice.awaiting_payment',
      'invoice.cancelled',
      'invoice.fulfilled',
      'invoice.paid',
      // Seen already at its required depth: payment.confirmed comes right after payment.detected.
      'payment.confirmed',
      'payment.detected',
      'webhook.test',
    ]);
    for (const type of byType.keys()) expect(EVENT_CATALOGUE[type], type).toBeDefined();
  });

  it('invoice.paid carries the invoice snapshot at its sequence, with the transition', () => {
    const e = byType.get('invoice.paid') as {
      data: { invoice: Record<string, unknown>; transition: unknown };
    };
    expect(Object.keys(e).sort()).toEqual(['created', 'data', 'id', 'type']);
    expect(mask(e.data.transition)).toMatchInlineSnapshot(`
      {
        "cause": "payment_seen",
        "from": "awaiting_payment",
        "reason": null,
        "to": "paid",
      }
    `);
    const { payment_options, payments, policy, ...invoice } = e.data.invoice;
    expect(mask(invoice)).toMatchInlineSnapshot(`
      {
        "amount_paid": "0.00015385",
        "amount_pending": "0",
        "cancel_url": null,
        "created_at": "<time>",
        "customer_id": null,
        "customer_status": "complete",
        "description": null,
        "expires_at": "<time>",
        "fulfilment": null,
        "id": "inv_…",
        "manually_paid": false,
        "merchant_order_id": "1001",
        "metadata": {},
        "monitoring_until": "<time>",
        "object": "invoice",
        "price": {
          "amount": "10",
          "currency": "USD",
        },
        "refunded_amount": "0",
        "selected_option_id": "opt_…",
        "sequence": 4,
        "shortfall": "0",
        "status": "paid",
        "success_url": null,
        "updated_at": "<time>",
      }
    `);
    expect(mask(payments)).toMatchInlineSnapshot(`
      [
        {
          "amount": "0.00015385",
          "amount_base_units": "15385",
          "asset": "BTC",
          "block_hash": "<hex>",
          "block_height": 100,
          "confirmations": 6,
          "credited": true,
          "id": "pay_…",
          "misdirected": null,
          "network": "bitcoin-regtest",
          "option_id": "opt_…",
          "output_index": 0,
          "rbf": false,
          "removed": false,
          "removed_reason": null,
          "required_confirmations": 1,
          "seen_at": "<time>",
          "settled": true,
          "timing": "on_time",
          "txid": "<hex>",
        },
      ]
    `);
    expect(Object.keys((payment_options as object[])[0] ?? {}).sort()).toMatchInlineSnapshot(`
      [
        "address",
        "amount_due",
        "amount_due_base_units",
        "asset",
        "confirmation_reason",
        "decimals",
        "id",
        "network",
        "payment_uri",
        "rate",
        "required_confirmations",
        "zero_conf_allowed",
      ]
    `);
    expect(policy).toBeTruthy();
  });

  it('payment.detected carries the payment; webhook.test names its endpoint', () => {
    expect(
      mask((byType.get('payment.detected')?.data as { payment: unknown } | undefined)?.payment),
    ).toMatchInlineSnapshot(`
      {
        "amount": "0.00015385",
        "amount_base_units": "15385",
        "asset": "BTC",
        "block_hash": "<hex>",
        "block_height": 100,
        "confirmations": 6,
        "credited": true,
        "id": "pay_…",
        "misdirected": null,
        "network": "bitcoin-regtest",
        "option_id": "opt_…",
        "output_index": 0,
        "rbf": false,
        "removed": false,
        "removed_reason": null,
        "required_confirmations": 1,
        "seen_at": "<time>",
        "settled": true,
        "timing": "on_time",
        "txid": "<hex>",
      }
    `);
    expect(mask(byType.get('webhook.test')?.data)).toMatchInlineSnapshot(`
      {
        "endpoint_id": "whe_…",
        "message": "Test event from Tally",
      }
    `);
  });
});
