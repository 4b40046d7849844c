/**
 * The ledger's pure core against the real state machine, under random fact sequences (payments of
 * random size and depth to either option, confirmations, removals, refunds, mark_paid): every
 * booking it would post balances per asset and network, the books always equal the position the
 * records call for, and recomputing "was the revenue recognised" from the transitions (as
 * `tally ledger verify` does) agrees with the booking's own judgement.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Fact } from '../../src/invoices/facts.ts';
import { transition } from '../../src/invoices/transition.ts';
import { SETTLED_STATUSES } from '../../src/invoices/transition-table.ts';
import type { Invoice, InvoiceStatus } from '../../src/invoices/types.ts';
import { bucketKey, difference, type Position, parseBucketKey } from '../../src/ledger/accounts.ts';
import { anchorOption, invoicePosition } from '../../src/ledger/invoice-position.ts';
import {
  BEFORE_EXPIRY,
  buildInvoice,
  markPaid,
  OPTION_A,
  OPTION_B,
  observed,
  refund,
  uid,
} from '../invoices/builders.ts';

type Step =
  | { kind: 'pay'; option: 0 | 1; permille: number; confirmations: number }
  | { kind: 'deepen'; which: number }
  | { kind: 'remove'; which: number }
  | { kind: 'refund'; permille: number }
  | { kind: 'mark_paid' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('pay' as const),
    option: fc.constantFrom<0 | 1>(0, 0, 1),
    permille: fc.integer({ min: 1, max: 1500 }),
    confirmations: fc.constantFrom(0, 1, 3, 6),
  }),
  fc.record({ kind: fc.constant('deepen' as const), which: fc.nat({ max: 5 }) }),
  fc.record({ kind: fc.constant('remove' as const), which: fc.nat({ max: 5 }) }),
  fc.record({ kind: fc.constant('refund' as const), permille: fc.integer({ min: 1, max: 1200 }) }),
  fc.constant({ kind: 'mark_paid' as const }),
);

function factFor(step: Step, invoice: Invoice): Fact | null {
  const live = invoice.payments.filter((p) => !p.removed);
  switch (step.kind) {
    case 'pay':
      return {
        kind: 'payment_seen',
        id: uid('seen'),
        payment: observed({
          optionId: step.option === 0 ? OPTION_A : OPTION_B,
          amount: (100_000n * BigInt(step.permille)) / 1000n,
          confirmations: step.confirmations,
        }),
      };
    case 'deepen': {
      const p = live[step.which % Math.max(1, live.length)];
      return p
        ? {
            kind: 'payment_confirmations',
            id: uid('depth'),
            paymentId: p.id,
            confirmations: 6,
            blockHash: 'b6',
            blockHeight: 800_000,
          }
        : null;
    }
    case 'remove': {
      const p = live[step.which % Math.max(1, live.length)];
      return p ? { kind: 'payment_removed', id: uid('rm'), paymentId: p.id, reason: 'double_spent' } : null;
    }
    case 'refund':
      return refund((100_000n * BigInt(step.permille)) / 1000n);
    case 'mark_paid':
      return markPaid();
  }
}

/** Per asset and network, debits minus credits: zero for a balanced posting. */
function imbalance(position: Position): bigint[] {
  const sums = new Map<string, bigint>();
  for (const [key, v] of position) {
    const b = parseBucketKey(key);
    const k = `${b.asset}|${b.network}`;
    sums.set(k, (sums.get(k) ?? 0n) + v);
  }
  return [...sums.values()].filter((v) => v !== 0n);
}

describe('invoice position under random fact sequences', () => {
  it('every posting balances, the books follow the records, recognition agrees with the transitions', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 14 }), (steps) => {
        let invoice = buildInvoice({ options: 2, requiredConfirmations: 3, status: 'awaiting_payment' });
        let booked: Position = new Map();
        let firstRefundFrom: InvoiceStatus | null = null;
        for (const step of steps) {
          const fact = factFor(step, invoice);
          if (!fact) continue;
          const result = transition(invoice, fact, BEFORE_EXPIRY);
          if (result.rejected) continue;
          const before = invoice.status;
          invoice = result.invoice;
          for (const t of result.transitions)
            if (firstRefundFrom === null && (t.to === 'partially_refunded' || t.to === 'refunded'))
              firstRefundFrom = t.from;
          // The booking's judgement (book.ts): settled now, or refunded from settled, or sales already booked.
          const selected = anchorOption(invoice);
          const salesKey = selected
            ? bucketKey({ account: 'revenue:sales', asset: selected.asset, network: selected.network })
            : '';
          const bookedRecognised =
            SETTLED_STATUSES.has(invoice.status) ||
            ((invoice.status === 'partially_refunded' || invoice.status === 'refunded') &&
              (SETTLED_STATUSES.has(before) || booked.has(salesKey)));
          // verify.ts's judgement, from the transitions alone.
          const verifyRecognised =
            SETTLED_STATUSES.has(invoice.status) ||
            ((invoice.status === 'partially_refunded' || invoice.status === 'refunded') &&
              firstRefundFrom !== null &&
              SETTLED_STATUSES.has(firstRefundFrom));
          expect(bookedRecognised).toBe(verifyRecognised);
          const target = invoicePosition(invoice, bookedRecognised);
          const posting = difference(target, booked);
          expect(imbalance(posting)).toEqual([]);
          expect(imbalance(target)).toEqual([]);
          booked = target;
        }
      }),
      { numRuns: 500 },
    );
  });
});
