/**
 * One real payload per catalogued event type, pinned by an inline snapshot, and docs/events.md
 * showing an example of each whose `data` has the same keys. Every event is produced the way the
 * gateway produces it (helpers/event-scenarios.ts) on a harness with a ManualClock, then
 * normalised (ids numbered in order of appearance, times as offsets from the start).
 *
 * SQLite only: payloads are built in TypeScript from the same records on both databases
 * (serializeInvoice / serializePayment / eventRow), and the database-specific paths that write
 * and read them (sequencer, feed, claims) are covered on both by outbox-order, delivery and
 * scenarios-22-24, so a second run would pin identical snapshots.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../src/webhooks/event-catalogue.ts';
import { freshSqlite } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { type Event, produceEveryEvent } from './helpers/event-scenarios.ts';
import { normaliser } from './helpers/normalise.ts';
import { TestReceiver } from './helpers/receiver.ts';

/**
 * The whole invoice object is pinned once (event-catalogue.test.ts, invoice.paid); here each
 * type pins what distinguishes it, so the invoice is cut to the fields that move between events.
 */
const INVOICE_FIELDS = [
  'id',
  'status',
  'sequence',
  'amount_paid',
  'amount_pending',
  'shortfall',
  'refunded_amount',
  'manually_paid',
  'fulfilment',
] as const;

describe('a real payload of every event type', () => {
  let h: Harness;
  let receiver: TestReceiver;
  let events: Map<string, Event>;
  let t0: Date;
  beforeAll(async () => {
    h = await createHarness(await freshSqlite());
    t0 = h.clock.now();
    receiver = await new TestReceiver().start();
    events = await produceEveryEvent(h, receiver);
  }, 60_000);
  afterAll(async () => {
    await receiver?.stop();
    await h?.close();
  });

  /** The event of `type`, normalised on its own (numbering does not depend on test order), its invoice cut to INVOICE_FIELDS. */
  function payload(type: string): unknown {
    const e = events.get(type);
    expect(e, `no ${type} event was produced`).toBeDefined();
    const { invoice, ...rest } = (e as Event).data as { invoice?: Record<string, unknown> };
    const data = invoice
      ? { invoice: Object.fromEntries(INVOICE_FIELDS.map((k) => [k, invoice[k]])), ...rest }
      : rest;
    return normaliser(t0)({ ...(e as Event), data });
  }

  it('produces every catalogued type, and nothing uncatalogued', () => {
    expect([...events.keys()].filter((t) => !EVENT_TYPES.includes(t))).toEqual([]);
    expect(EVENT_TYPES.filter((t) => !events.has(t))).toEqual([]);
  });

  it('docs/events.md shows an example of every type whose data has the real keys', () => {
    const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
    const problems: string[] = [];
    for (const type of EVENT_TYPES) {
      const section = doc.split(`\n### \`${type}\`\n`)[1]?.split('\n### ')[0];
      const block = section && /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
      if (!block) {
        problems.push(`${type}: no "### \`${type}\`" section with a json block`);
        continue;
      }
      const example = JSON.parse(block) as Event;
      const real = Object.keys(events.get(type)?.data ?? {}).sort();
      const shown = Object.keys(example.data ?? {})
        .filter((k) => k !== '…')
        .sort();
      if (example.type !== type) problems.push(`${type}: the example says type ${example.type}`);
      if (shown.join() !== real.join()) problems.push(`${type}: data keys ${shown} ≠ real ${real}`);
    }
    expect(problems).toEqual([]);
  });

  it('refund events carry the refund they are about, on an invoice with two refunds', async () => {
    const invoiceId = ((events.get('refund.reverted') as Event).data.invoice as { id: string }).id;
    const feed = await h.request('GET', `/v1/events?limit=100&invoice_id=${invoiceId}`);
    const refundsIn = (type: string) =>
      (feed.body.data as Event[]).filter((e) => e.type === type).map((e) => e.data.refund);
    // The refunds API as it stands now: the first still completed, the second back to approved.
    const listed = await h.request('GET', `/v1/refunds?invoice_id=${invoiceId}`);
    const refunds = listed.body.data as Array<{ id: string; reason: string }>;
    const first = refunds.find((r) => r.reason === 'first half');
    const rest = refunds.find((r) => r.reason === 'the rest');
    if (!first || !rest) throw new Error('the scenario asks for two refunds');
    expect(first.id).not.toBe(rest.id);
    const completed = refundsIn('refund.completed') as Array<{ id: string; status: string; amount: string }>;
    expect(completed.map((r) => [r.id, r.status, r.amount])).toEqual([
      [first.id, 'completed', '0.00007692'],
      [rest.id, 'completed', '0.00007693'],
    ]);
    // Each event's refund is exactly the refunds API's object at that moment.
    expect(completed[0]).toEqual(first);
    expect(refundsIn('refund.reverted')).toEqual([rest]);
    expect(rest).toMatchObject({ status: 'approved', completed_at: null });
  });

  it('exception.opened and exception.resolved carry the exceptions API object', async () => {
    const opened = (events.get('exception.opened') as Event).data.exception as { id: string };
    const resolved = (events.get('exception.resolved') as Event).data.exception as { id: string };
    expect(opened.id).toBe(resolved.id);
    const api = (await h.request('GET', `/v1/exceptions/${opened.id}`)).body;
    expect(Object.keys(opened).sort()).toEqual(Object.keys(api).sort());
    expect(Object.keys(resolved).sort()).toEqual(Object.keys(api).sort());
    // Opened: the exception as it was then; resolved: as it is now.
    expect(opened).toEqual({
      ...api,
      status: 'open',
      resolution: null,
      resolved_by: null,
      resolved_reason: null,
      resolved_at: null,
    });
    expect(resolved).toEqual(api);
  });

  it('invoice.awaiting_payment', () => {
    expect(payload('invoice.awaiting_payment')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0",
            "amount_pending": "0",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 1,
            "shortfall": "0",
            "status": "awaiting_payment",
          },
          "transition": {
            "cause": "options_assigned",
            "from": "created",
            "reason": null,
            "to": "awaiting_payment",
          },
        },
        "id": "evt_1",
        "type": "invoice.awaiting_payment",
      }
    `);
  });

  it('invoice.detected', () => {
    expect(payload('invoice.detected')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0",
            "amount_pending": "0.00015385",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 3,
            "shortfall": "0.00015385",
            "status": "detected",
          },
          "transition": {
            "cause": "payment_seen",
            "from": "awaiting_payment",
            "reason": null,
            "to": "detected",
          },
        },
        "id": "evt_1",
        "type": "invoice.detected",
      }
    `);
  });

  it('invoice.confirming', () => {
    expect(payload('invoice.confirming')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0",
            "amount_pending": "0.00015385",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 4,
            "shortfall": "0.00015385",
            "status": "confirming",
          },
          "transition": {
            "cause": "payment_confirmations",
            "from": "detected",
            "reason": null,
            "to": "confirming",
          },
        },
        "id": "evt_1",
        "type": "invoice.confirming",
      }
    `);
  });

  it('invoice.paid', () => {
    expect(payload('invoice.paid')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0.00015385",
            "amount_pending": "0",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 6,
            "shortfall": "0",
            "status": "paid",
          },
          "transition": {
            "cause": "payment_confirmations",
            "from": "confirming",
            "reason": null,
            "to": "paid",
          },
        },
        "id": "evt_1",
        "type": "invoice.paid",
      }
    `);
  });

  it('invoice.underpaid', () => {
    expect(payload('invoice.underpaid')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0.00007692",
            "amount_pending": "0",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 4,
            "shortfall": "0.00007693",
            "status": "underpaid",
          },
          "transition": {
            "cause": "payment_seen",
            "from": "awaiting_payment",
            "reason": null,
            "to": "underpaid",
          },
        },
        "id": "evt_1",
        "type": "invoice.underpaid",
      }
    `);
  });

  it('invoice.overpaid', () => {
    expect(payload('invoice.overpaid')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0.0003077",
            "amount_pending": "0",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 5,
            "shortfall": "0",
            "status": "overpaid",
          },
          "transition": {
            "cause": "payment_seen",
            "from": "awaiting_payment",
            "reason": null,
            "to": "overpaid",
          },
        },
        "id": "evt_1",
        "type": "invoice.overpaid",
      }
    `);
  });

  it('invoice.expired', () => {
    expect(payload('invoice.expired')).toMatchInlineSnapshot(`
      {
        "created": "T0+16m",
        "data": {
          "invoice": {
            "amount_paid": "0",
            "amount_pending": "0",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 2,
            "shortfall": "0",
            "status": "expired",
          },
          "transition": {
            "cause": "expiry_due",
            "from": "awaiting_payment",
            "reason": null,
            "to": "expired",
          },
        },
        "id": "evt_1",
        "type": "invoice.expired",
      }
    `);
  });

  it('invoice.late_paid', () => {
    expect(payload('invoice.late_paid')).toMatchInlineSnapshot(`
      {
        "created": "T0+16m",
        "data": {
          "invoice": {
            "amount_paid": "0.00015385",
            "amount_pending": "0",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 6,
            "shortfall": "0",
            "status": "late_paid",
          },
          "transition": {
            "cause": "payment_seen",
            "from": "expired",
            "reason": null,
            "to": "late_paid",
          },
        },
        "id": "evt_1",
        "type": "invoice.late_paid",
      }
    `);
  });

  it('invoice.failed', () => {
    expect(payload('invoice.failed')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0",
            "amount_pending": "0",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 2,
            "shortfall": "0",
            "status": "failed",
          },
          "transition": {
            "cause": "mark_failed",
            "from": "awaiting_payment",
            "reason": "customer abandoned the order",
            "to": "failed",
          },
        },
        "id": "evt_1",
        "type": "invoice.failed",
      }
    `);
  });

  it('invoice.cancelled', () => {
    expect(payload('invoice.cancelled')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0",
            "amount_pending": "0",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 2,
            "shortfall": "0",
            "status": "cancelled",
          },
          "transition": {
            "cause": "merchant_cancel",
            "from": "awaiting_payment",
            "reason": null,
            "to": "cancelled",
          },
        },
        "id": "evt_1",
        "type": "invoice.cancelled",
      }
    `);
  });

  it('invoice.refunded', () => {
    expect(payload('invoice.refunded')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0.00015385",
            "amount_pending": "0",
            "fulfilment": {
              "fulfilled_at": "T0+0s",
              "note": null,
              "reference": "ship-1",
            },
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0.00015385",
            "sequence": 11,
            "shortfall": "0",
            "status": "refunded",
          },
          "transition": {
            "cause": "refund_completed",
            "from": "partially_refunded",
            "reason": null,
            "to": "refunded",
          },
        },
        "id": "evt_1",
        "type": "invoice.refunded",
      }
    `);
  });

  it('invoice.partially_refunded', () => {
    expect(payload('invoice.partially_refunded')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0.00015385",
            "amount_pending": "0",
            "fulfilment": {
              "fulfilled_at": "T0+0s",
              "note": null,
              "reference": "ship-1",
            },
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0.00007692",
            "sequence": 9,
            "shortfall": "0",
            "status": "partially_refunded",
          },
          "transition": {
            "cause": "refund_completed",
            "from": "paid",
            "reason": null,
            "to": "partially_refunded",
          },
        },
        "id": "evt_1",
        "type": "invoice.partially_refunded",
      }
    `);
  });

  it('invoice.fulfilled', () => {
    expect(payload('invoice.fulfilled')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0.00015385",
            "amount_pending": "0",
            "fulfilment": {
              "fulfilled_at": "T0+0s",
              "note": null,
              "reference": "ship-1",
            },
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 7,
            "shortfall": "0",
            "status": "paid",
          },
        },
        "id": "evt_1",
        "type": "invoice.fulfilled",
      }
    `);
  });

  it('payment.detected', () => {
    expect(payload('payment.detected')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0",
            "amount_pending": "0.00015385",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 2,
            "shortfall": "0.00015385",
            "status": "detected",
          },
          "payment": {
            "amount": "0.00015385",
            "amount_base_units": "15385",
            "asset": "BTC",
            "block_hash": null,
            "block_height": null,
            "confirmations": 0,
            "credited": true,
            "id": "pay_3",
            "misdirected": null,
            "network": "bitcoin-regtest",
            "option_id": "opt_4",
            "output_index": 0,
            "rbf": false,
            "removed": false,
            "removed_reason": null,
            "required_confirmations": 2,
            "seen_at": "T0+0s",
            "settled": false,
            "timing": "on_time",
            "txid": "hex_5",
          },
        },
        "id": "evt_1",
        "type": "payment.detected",
      }
    `);
  });

  it('payment.confirmed', () => {
    expect(payload('payment.confirmed')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0.00015385",
            "amount_pending": "0",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 5,
            "shortfall": "0",
            "status": "paid",
          },
          "payment": {
            "amount": "0.00015385",
            "amount_base_units": "15385",
            "asset": "BTC",
            "block_hash": "hex_6",
            "block_height": 100,
            "confirmations": 2,
            "credited": true,
            "id": "pay_3",
            "misdirected": null,
            "network": "bitcoin-regtest",
            "option_id": "opt_4",
            "output_index": 0,
            "rbf": false,
            "removed": false,
            "removed_reason": null,
            "required_confirmations": 2,
            "seen_at": "T0+0s",
            "settled": true,
            "timing": "on_time",
            "txid": "hex_5",
          },
        },
        "id": "evt_1",
        "type": "payment.confirmed",
      }
    `);
  });

  it('payment.replaced', () => {
    expect(payload('payment.replaced')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0",
            "amount_pending": "0",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 8,
            "shortfall": "0",
            "status": "awaiting_payment",
          },
          "payment": {
            "amount": "0.00015385",
            "amount_base_units": "15385",
            "asset": "BTC",
            "block_hash": null,
            "block_height": null,
            "confirmations": 0,
            "credited": true,
            "id": "pay_3",
            "misdirected": null,
            "network": "bitcoin-regtest",
            "option_id": "opt_4",
            "output_index": 0,
            "rbf": false,
            "removed": true,
            "removed_reason": "double_spent",
            "required_confirmations": 1,
            "seen_at": "T0+0s",
            "settled": false,
            "timing": "on_time",
            "txid": "hex_5",
          },
        },
        "id": "evt_1",
        "type": "payment.replaced",
      }
    `);
  });

  it('payment.reorged', () => {
    expect(payload('payment.reorged')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0",
            "amount_pending": "0.00015385",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 5,
            "shortfall": "0.00015385",
            "status": "detected",
          },
          "payment": {
            "amount": "0.00015385",
            "amount_base_units": "15385",
            "asset": "BTC",
            "block_hash": null,
            "block_height": null,
            "confirmations": 0,
            "credited": true,
            "id": "pay_3",
            "misdirected": null,
            "network": "bitcoin-regtest",
            "option_id": "opt_4",
            "output_index": 0,
            "rbf": false,
            "removed": false,
            "removed_reason": null,
            "required_confirmations": 1,
            "seen_at": "T0+0s",
            "settled": false,
            "timing": "on_time",
            "txid": "hex_5",
          },
        },
        "id": "evt_1",
        "type": "payment.reorged",
      }
    `);
  });

  it('payment.restored', () => {
    expect(payload('payment.restored')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0.00015385",
            "amount_pending": "0",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 10,
            "shortfall": "0",
            "status": "paid",
          },
          "payment": {
            "amount": "0.00015385",
            "amount_base_units": "15385",
            "asset": "BTC",
            "block_hash": "hex_6",
            "block_height": 101,
            "confirmations": 1,
            "credited": true,
            "id": "pay_3",
            "misdirected": null,
            "network": "bitcoin-regtest",
            "option_id": "opt_4",
            "output_index": 0,
            "rbf": false,
            "removed": false,
            "removed_reason": null,
            "required_confirmations": 1,
            "seen_at": "T0+0s",
            "settled": true,
            "timing": "on_time",
            "txid": "hex_5",
          },
        },
        "id": "evt_1",
        "type": "payment.restored",
      }
    `);
  });

  it('exception.opened', () => {
    expect(payload('exception.opened')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "exception": {
            "created_at": "T0+0s",
            "evidence": {
              "cause": "payment_reorged",
              "new_status": "detected",
              "previous_status": "paid",
            },
            "id": "exc_3",
            "invoice_id": "inv_2",
            "kind": "reorg_after_paid",
            "object": "exception",
            "payment_id": "pay_4",
            "resolution": null,
            "resolved_at": null,
            "resolved_by": null,
            "resolved_reason": null,
            "status": "open",
          },
          "invoice": {
            "amount_paid": "0",
            "amount_pending": "0.00015385",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 6,
            "shortfall": "0.00015385",
            "status": "detected",
          },
        },
        "id": "evt_1",
        "type": "exception.opened",
      }
    `);
  });

  it('exception.resolved', () => {
    expect(payload('exception.resolved')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "exception": {
            "created_at": "T0+0s",
            "evidence": {
              "cause": "payment_reorged",
              "new_status": "detected",
              "previous_status": "paid",
            },
            "id": "exc_3",
            "invoice_id": "inv_2",
            "kind": "reorg_after_paid",
            "object": "exception",
            "payment_id": "pay_4",
            "resolution": "accepted",
            "resolved_at": "T0+0s",
            "resolved_by": "key_5",
            "resolved_reason": "mined after all; nothing to do",
            "status": "resolved",
          },
          "invoice": {
            "amount_paid": "0.00015385",
            "amount_pending": "0",
            "fulfilment": null,
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0",
            "sequence": 13,
            "shortfall": "0",
            "status": "paid",
          },
        },
        "id": "evt_1",
        "type": "exception.resolved",
      }
    `);
  });

  it('refund.completed', () => {
    expect(payload('refund.completed')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0.00015385",
            "amount_pending": "0",
            "fulfilment": {
              "fulfilled_at": "T0+0s",
              "note": null,
              "reference": "ship-1",
            },
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0.00007692",
            "sequence": 8,
            "shortfall": "0",
            "status": "partially_refunded",
          },
          "refund": {
            "amount": "0.00007692",
            "amount_base_units": "7692",
            "approval_reason": "customer returned the goods",
            "approved_at": "T0+0s",
            "approved_by": "key_6",
            "asset": "BTC",
            "completed_at": "T0+0s",
            "created_at": "T0+0s",
            "destination": "address_4",
            "fee": "0",
            "fee_asset": "BTC",
            "fee_estimate": null,
            "id": "ref_3",
            "invoice_id": "inv_2",
            "kind": "partial",
            "network": "bitcoin-regtest",
            "object": "refund",
            "reason": "first half",
            "requested_by": "key_5",
            "status": "completed",
            "txid": "hex_7",
            "unsigned_transaction": null,
          },
        },
        "id": "evt_1",
        "type": "refund.completed",
      }
    `);
  });

  it('refund.reverted', () => {
    expect(payload('refund.reverted')).toMatchInlineSnapshot(`
      {
        "created": "T0+0s",
        "data": {
          "invoice": {
            "amount_paid": "0.00015385",
            "amount_pending": "0",
            "fulfilment": {
              "fulfilled_at": "T0+0s",
              "note": null,
              "reference": "ship-1",
            },
            "id": "inv_2",
            "manually_paid": false,
            "refunded_amount": "0.00007692",
            "sequence": 12,
            "shortfall": "0",
            "status": "partially_refunded",
          },
          "refund": {
            "amount": "0.00007693",
            "amount_base_units": "7693",
            "approval_reason": "customer returned the goods",
            "approved_at": "T0+0s",
            "approved_by": "key_6",
            "asset": "BTC",
            "completed_at": null,
            "created_at": "T0+0s",
            "destination": "address_4",
            "fee": "0",
            "fee_asset": "BTC",
            "fee_estimate": null,
            "id": "ref_3",
            "invoice_id": "inv_2",
            "kind": "full",
            "network": "bitcoin-regtest",
            "object": "refund",
            "reason": "the rest",
            "requested_by": "key_5",
            "status": "approved",
            "txid": "hex_7",
            "unsigned_transaction": null,
          },
        },
        "id": "evt_1",
        "type": "refund.reverted",
      }
    `);
  });

  it('wallet.gap_warning', () => {
    expect(payload('wallet.gap_warning')).toMatchInlineSnapshot(`
      {
        "created": "T0+16m",
        "data": {
          "gap": {
            "highest_allocated_index": 22,
            "last_paid_index": 6,
            "limit": 20,
            "unpaid_since_last_paid": 16,
            "warned_at": "T0+16m",
            "warning": true,
            "warning_threshold": 16,
          },
          "message": "16 unpaid addresses follow the last paid one; wallets that stop scanning after 20 unused addresses will not show payments beyond that. Raise the gap limit in your wallet software.",
          "wallet": {
            "id": "wal_2",
            "label": null,
            "scope": "bitcoin-regtest",
          },
        },
        "id": "evt_1",
        "type": "wallet.gap_warning",
      }
    `);
  });

  it('webhook_endpoint.disabled', () => {
    expect(payload('webhook_endpoint.disabled')).toMatchInlineSnapshot(`
      {
        "created": "T0+16m",
        "data": {
          "disabled_at": "T0+16m",
          "endpoint": {
            "description": "orders service",
            "id": "whe_2",
            "url": "http://127.0.0.1:<port>/hooks",
          },
          "reason": "the endpoint answered 410 Gone",
        },
        "id": "evt_1",
        "type": "webhook_endpoint.disabled",
      }
    `);
  });

  it('webhook.test', () => {
    expect(payload('webhook.test')).toMatchInlineSnapshot(`
      {
        "created": "T0+16m",
        "data": {
          "endpoint_id": "whe_2",
          "message": "Test event from Tally",
        },
        "id": "evt_1",
        "type": "webhook.test",
      }
    `);
  });
});
