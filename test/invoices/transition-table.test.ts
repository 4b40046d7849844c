/**
 * The transition table, pinned: every (from, to, fact kind) triple is checked against an explicit
 * expected table written here, so TRANSITIONS cannot change silently; every allowed (from, to) pair
 * is produced by a concrete scenario through transition(); and from every one of those starting
 * states a battery of facts never yields a forbidden pair.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Fact, FactKind } from '../../src/invoices/facts.ts';
import { type ExceptionKind, transition } from '../../src/invoices/transition.ts';
import {
  FROZEN_STATUSES,
  isAllowed,
  SETTLED_STATUSES,
  TRANSITIONS,
} from '../../src/invoices/transition-table.ts';
import { INVOICE_STATUSES, type Invoice, type InvoiceStatus } from '../../src/invoices/types.ts';
import {
  AFTER_WINDOW,
  at,
  BEFORE_EXPIRY,
  buildInvoice,
  confirmations,
  DEFAULT_DUE,
  drive,
  EXPIRY_SECONDS,
  expiryDue,
  type InvoiceSpec,
  LATE,
  markFailed,
  markPaid,
  merchantCancel,
  OPTION_B,
  observed,
  optionsAssigned,
  paymentSeen,
  refund,
  removed,
  reorged,
  revert,
  type Step,
  windowClosed,
} from './builders.ts';

const FACT_KINDS = [
  'options_assigned',
  'payment_seen',
  'payment_confirmations',
  'payment_reorged',
  'payment_removed',
  'expiry_due',
  'window_closed',
  'merchant_cancel',
  'mark_paid',
  'mark_failed',
  'refund_completed',
  'refund_reverted',
] as const satisfies readonly FactKind[];
// Compile-time guard: a new fact kind must be added to FACT_KINDS (and to the expected table).
type MissingKinds = Exclude<FactKind, (typeof FACT_KINDS)[number]>;
const allKindsListed: [MissingKinds] extends [never] ? true : MissingKinds = true;

// Written out on purpose rather than imported: changing TRANSITIONS must change this test too.
const CHAIN = ['payment_seen', 'payment_confirmations', 'payment_removed', 'payment_reorged'] as const;
const LOSS = ['payment_removed', 'payment_reorged', 'payment_confirmations'] as const;
const CLOCK = ['expiry_due', 'window_closed'] as const;
const REFUND = ['refund_completed'] as const;
const REVERT = ['refund_reverted'] as const;
// Where a reverted refund can leave the invoice: what it would be without the refund.
const UNREFUNDED = {
  awaiting_payment: REVERT,
  detected: REVERT,
  confirming: REVERT,
  underpaid: REVERT,
  paid: REVERT,
  overpaid: REVERT,
  late_paid: REVERT,
  expired: REVERT,
  cancelled: REVERT,
  failed: REVERT,
} as const;

type Expected = Record<InvoiceStatus, Partial<Record<InvoiceStatus, readonly FactKind[]>>>;

const EXPECTED: Expected = {
  created: { awaiting_payment: ['options_assigned'], cancelled: ['merchant_cancel'] },
  awaiting_payment: {
    detected: CHAIN,
    confirming: CHAIN,
    paid: CHAIN,
    overpaid: CHAIN,
    underpaid: CHAIN,
    late_paid: CHAIN,
    expired: [...CHAIN, ...CLOCK],
    cancelled: ['merchant_cancel'],
    failed: ['mark_failed'],
  },
  detected: {
    awaiting_payment: LOSS,
    confirming: CHAIN,
    paid: [...CHAIN, 'mark_paid'],
    overpaid: CHAIN,
    underpaid: CHAIN,
    late_paid: CHAIN,
    expired: [...LOSS, ...CLOCK],
    failed: ['mark_failed'],
    partially_refunded: REFUND,
    refunded: REFUND,
  },
  confirming: {
    awaiting_payment: LOSS,
    detected: CHAIN,
    paid: [...CHAIN, 'mark_paid'],
    overpaid: CHAIN,
    underpaid: CHAIN,
    late_paid: CHAIN,
    expired: [...LOSS, ...CLOCK],
    failed: ['mark_failed'],
    partially_refunded: REFUND,
    refunded: REFUND,
  },
  underpaid: {
    awaiting_payment: LOSS,
    detected: CHAIN,
    confirming: CHAIN,
    paid: [...CHAIN, 'mark_paid'],
    overpaid: CHAIN,
    late_paid: CHAIN,
    expired: LOSS,
    failed: ['mark_failed'],
    partially_refunded: REFUND,
    refunded: REFUND,
  },
  paid: {
    awaiting_payment: LOSS,
    detected: LOSS,
    confirming: LOSS,
    underpaid: LOSS,
    overpaid: LOSS,
    late_paid: LOSS,
    expired: LOSS,
    partially_refunded: REFUND,
    refunded: REFUND,
  },
  overpaid: {
    awaiting_payment: LOSS,
    detected: LOSS,
    confirming: LOSS,
    underpaid: LOSS,
    paid: LOSS,
    late_paid: LOSS,
    expired: LOSS,
    partially_refunded: REFUND,
    refunded: REFUND,
  },
  late_paid: {
    detected: LOSS,
    confirming: LOSS,
    underpaid: LOSS,
    paid: LOSS,
    overpaid: LOSS,
    expired: LOSS,
    partially_refunded: REFUND,
    refunded: REFUND,
  },
  expired: {
    detected: CHAIN,
    confirming: CHAIN,
    paid: [...CHAIN, 'mark_paid'],
    overpaid: CHAIN,
    underpaid: CHAIN,
    late_paid: CHAIN,
    failed: ['mark_failed'],
    partially_refunded: REFUND,
    refunded: REFUND,
  },
  partially_refunded: { refunded: REFUND, ...UNREFUNDED },
  cancelled: { partially_refunded: REFUND, refunded: REFUND },
  failed: { partially_refunded: REFUND, refunded: REFUND },
  refunded: { partially_refunded: REVERT, ...UNREFUNDED },
};

const PAIRS = INVOICE_STATUSES.flatMap((from) => INVOICE_STATUSES.map((to) => [from, to] as const));
const ALLOWED_PAIRS = PAIRS.filter(([from, to]) => (EXPECTED[from][to]?.length ?? 0) > 0);
const FORBIDDEN_PAIRS = PAIRS.filter(([from, to]) => (EXPECTED[from][to]?.length ?? 0) === 0);
const key = (from: InvoiceStatus, to: InvoiceStatus) => `${from} → ${to}`;

describe('transition table: every (from, to, fact kind) triple', () => {
  it('lists every fact kind', () => {
    expect(allKindsListed).toBe(true);
    expect(PAIRS).toHaveLength(13 * 13);
    expect(ALLOWED_PAIRS).toHaveLength(102);
  });

  it.each(PAIRS)('%s → %s allows exactly the expected fact kinds', (from, to) => {
    const expected = new Set<FactKind>(EXPECTED[from][to] ?? []);
    for (const kind of FACT_KINDS) {
      expect(isAllowed(from, to, kind), `${from} → ${to} on ${kind}`).toBe(expected.has(kind));
    }
  });

  it('has no self-loops and no entry outside the known statuses', () => {
    for (const from of INVOICE_STATUSES) {
      expect(TRANSITIONS[from][from]).toBeUndefined();
      for (const to of Object.keys(TRANSITIONS[from])) expect(INVOICE_STATUSES).toContain(to);
    }
  });

  it('leaves refunded only by a reverted refund, and the frozen statuses only by refunds and reverts', () => {
    for (const kinds of Object.values(TRANSITIONS.refunded)) expect(kinds).toEqual(['refund_reverted']);
    for (const from of FROZEN_STATUSES) {
      for (const [to, kinds] of Object.entries(TRANSITIONS[from])) {
        if (kinds?.includes('refund_completed')) {
          expect(['partially_refunded', 'refunded']).toContain(to);
          expect(kinds).toEqual(['refund_completed']);
        } else {
          expect(kinds).toEqual(['refund_reverted']);
          expect(['partially_refunded', 'refunded']).toContain(from);
        }
      }
    }
  });

  it('lets only loss-or-depth chain facts and refunds leave a settled status', () => {
    for (const from of SETTLED_STATUSES) {
      for (const kinds of Object.values(TRANSITIONS[from])) {
        for (const kind of kinds ?? []) {
          expect([
            'payment_removed',
            'payment_reorged',
            'payment_confirmations',
            'refund_completed',
          ]).toContain(kind);
        }
      }
    }
  });
});

/**
 * Reads the per-status tables of docs/transition-table.md ("### `from`" then "| `to` | caused by |")
 * and expands the group names, so the prose cannot drift from TRANSITIONS.
 */
function tableFromDocs(): Record<string, Record<string, string[]>> {
  const text = readFileSync(new URL('../../docs/transition-table.md', import.meta.url), 'utf8');
  const section = text.slice(text.indexOf('\n## The table'), text.indexOf('\n## Exceptions'));
  const groups: Record<string, readonly string[]> = { CHAIN, LOSS, CLOCK, REFUND, REVERT };
  const table: Record<string, Record<string, string[]>> = {};
  let from: string | null = null;
  for (const line of section.split('\n')) {
    if (line.startsWith('### ')) {
      from = /^### `(\w+)`/.exec(line)?.[1] ?? null;
      if (from) table[from] = {};
    }
    const row = /^\| `(\w+)` \| ([^|]+) \|/.exec(line);
    const moves = from ? table[from] : undefined;
    if (!moves || !row?.[1] || !row[2]) continue;
    moves[row[1]] = row[2].split('+').flatMap((token) => {
      const name = token.trim();
      return groups[name] ?? [name.replaceAll('`', '')];
    });
  }
  return table;
}

describe('docs/transition-table.md', () => {
  it('lists exactly the moves and causes of TRANSITIONS', () => {
    const docs = tableFromDocs();
    const normalise = (t: Record<string, Partial<Record<string, readonly string[]>>>) =>
      Object.fromEntries(
        Object.entries(t).map(([from, moves]) => [
          from,
          Object.fromEntries(Object.entries(moves).map(([to, kinds]) => [to, [...(kinds ?? [])].sort()])),
        ]),
      );
    expect(Object.keys(docs).sort()).toEqual([...INVOICE_STATUSES].sort());
    expect(normalise(docs)).toEqual(normalise(TRANSITIONS));
  });
});

// ---------------------------------------------------------------------------------------------
// One concrete scenario per allowed pair.

const due = DEFAULT_DUE;
const half = DEFAULT_DUE / 2n;
const LATER = at(EXPIRY_SECONDS + 600);

interface PairScenario {
  from: InvoiceStatus;
  to: InvoiceStatus;
  fact: Fact;
  now: Date;
  spec?: InvoiceSpec;
  setup?: Step[];
  /** Builds the starting invoice directly, for states facts alone do not reach. */
  start?: () => Invoice;
  exceptions?: ExceptionKind[];
  why: string;
}

const seenA = (amount: bigint, conf: number, at_: Date = BEFORE_EXPIRY, rbf = true): Step => [
  paymentSeen({ paymentId: 'pA', amount, confirmations: conf, rbf }),
  at_,
];
const seenB = (amount: bigint, conf: number, at_: Date = BEFORE_EXPIRY, rbf = true): Step => [
  paymentSeen({ paymentId: 'pB', amount, confirmations: conf, rbf }),
  at_,
];
const seenLate = (amount: bigint, conf: number): Step => [
  paymentSeen({ paymentId: 'pL', amount, confirmations: conf, rbf: true }),
  LATE,
];
const AT_120 = at(120);
const GENEROUS: InvoiceSpec = { overpaymentToleranceBps: 10_000 };

const SCENARIOS: PairScenario[] = [
  // created
  {
    from: 'created',
    to: 'awaiting_payment',
    spec: { status: 'created' },
    fact: optionsAssigned(),
    now: at(1),
    why: 'options assigned',
  },
  {
    from: 'created',
    to: 'cancelled',
    spec: { status: 'created' },
    fact: merchantCancel(),
    now: at(1),
    why: 'merchant cancels before assignment',
  },
  // awaiting_payment
  {
    from: 'awaiting_payment',
    to: 'detected',
    fact: paymentSeen({ amount: due }),
    now: BEFORE_EXPIRY,
    why: 'full payment in the mempool',
  },
  {
    from: 'awaiting_payment',
    to: 'confirming',
    fact: paymentSeen({ amount: due, confirmations: 1 }),
    now: BEFORE_EXPIRY,
    why: 'full payment, 1 of 2 confirmations',
  },
  {
    from: 'awaiting_payment',
    to: 'paid',
    fact: paymentSeen({ amount: due, confirmations: 2 }),
    now: BEFORE_EXPIRY,
    why: 'full payment first seen at depth',
  },
  {
    from: 'awaiting_payment',
    to: 'overpaid',
    fact: paymentSeen({ amount: 2n * due, confirmations: 2 }),
    now: BEFORE_EXPIRY,
    exceptions: ['overpayment'],
    why: 'double the amount, settled',
  },
  {
    from: 'awaiting_payment',
    to: 'underpaid',
    fact: paymentSeen({ amount: half, confirmations: 2 }),
    now: BEFORE_EXPIRY,
    why: 'half the amount, settled',
  },
  {
    from: 'awaiting_payment',
    to: 'late_paid',
    fact: paymentSeen({ amount: due, confirmations: 2 }),
    now: LATE,
    exceptions: ['late_payment'],
    why: 'full payment after expiry (expiry job not yet run), inside the window',
  },
  {
    from: 'awaiting_payment',
    to: 'expired',
    fact: expiryDue(),
    now: LATE,
    why: 'expiry with nothing paid',
  },
  {
    from: 'awaiting_payment',
    to: 'cancelled',
    fact: merchantCancel(),
    now: BEFORE_EXPIRY,
    why: 'merchant cancels',
  },
  {
    from: 'awaiting_payment',
    to: 'failed',
    fact: markFailed('fraud suspected'),
    now: BEFORE_EXPIRY,
    why: 'operator marks failed',
  },
  // detected: pA, full amount, RBF, in the mempool
  {
    from: 'detected',
    to: 'awaiting_payment',
    setup: [seenA(due, 0)],
    fact: removed('pA'),
    now: AT_120,
    why: 'the only payment is double-spent before expiry',
  },
  {
    from: 'detected',
    to: 'confirming',
    setup: [seenA(due, 0)],
    fact: confirmations('pA', 1),
    now: AT_120,
    why: 'first confirmation',
  },
  {
    from: 'detected',
    to: 'paid',
    setup: [seenA(due, 0)],
    fact: confirmations('pA', 2),
    now: AT_120,
    why: 'reaches the required depth',
  },
  {
    from: 'detected',
    to: 'paid',
    setup: [seenA(due, 0)],
    fact: markPaid('confirmed out of band'),
    now: AT_120,
    why: 'operator marks paid',
  },
  {
    from: 'detected',
    to: 'overpaid',
    setup: [seenA(2n * due, 0)],
    fact: confirmations('pA', 2),
    now: AT_120,
    exceptions: ['overpayment'],
    why: 'a double payment reaches depth',
  },
  {
    from: 'detected',
    to: 'underpaid',
    setup: [seenA(half, 0)],
    fact: confirmations('pA', 2),
    now: AT_120,
    why: 'a half payment reaches depth',
  },
  {
    from: 'detected',
    to: 'late_paid',
    setup: [seenA(due, 0)],
    fact: paymentSeen({ paymentId: 'pL', amount: due, confirmations: 2 }),
    now: LATE,
    exceptions: ['late_payment'],
    why: 'a late settled payment completes the invoice while the on-time one is still in the mempool',
  },
  {
    from: 'detected',
    to: 'expired',
    setup: [seenA(due, 0)],
    fact: removed('pA'),
    now: LATE,
    why: 'the only payment is double-spent after expiry',
  },
  {
    from: 'detected',
    to: 'failed',
    setup: [seenA(due, 0)],
    fact: markFailed(),
    now: AT_120,
    why: 'operator marks failed',
  },
  // confirming: pA, full amount, 1 of 2 confirmations
  {
    from: 'confirming',
    to: 'awaiting_payment',
    setup: [seenA(due, 1)],
    fact: removed('pA'),
    now: AT_120,
    why: 'double-spent by a reorg before expiry',
  },
  {
    from: 'confirming',
    to: 'detected',
    setup: [seenA(due, 1)],
    fact: reorged('pA'),
    now: AT_120,
    why: 'its block is orphaned',
  },
  {
    from: 'confirming',
    to: 'paid',
    setup: [seenA(due, 1)],
    fact: confirmations('pA', 2),
    now: AT_120,
    why: 'reaches the required depth',
  },
  {
    from: 'confirming',
    to: 'paid',
    setup: [seenA(due, 1)],
    fact: markPaid(),
    now: AT_120,
    why: 'operator marks paid',
  },
  {
    from: 'confirming',
    to: 'overpaid',
    setup: [seenA(2n * due, 1)],
    fact: confirmations('pA', 2),
    now: AT_120,
    exceptions: ['overpayment'],
    why: 'a double payment reaches depth',
  },
  {
    from: 'confirming',
    to: 'underpaid',
    setup: [seenA(half, 1)],
    fact: confirmations('pA', 2),
    now: AT_120,
    why: 'a half payment reaches depth',
  },
  {
    from: 'confirming',
    to: 'late_paid',
    setup: [seenA(due, 1)],
    fact: paymentSeen({ paymentId: 'pL', amount: due, confirmations: 2 }),
    now: LATE,
    exceptions: ['late_payment'],
    why: 'a late settled payment completes the invoice',
  },
  {
    from: 'confirming',
    to: 'expired',
    setup: [seenA(due, 1)],
    fact: removed('pA'),
    now: LATE,
    why: 'double-spent after expiry',
  },
  {
    from: 'confirming',
    to: 'failed',
    setup: [seenA(due, 1)],
    fact: markFailed(),
    now: AT_120,
    why: 'operator marks failed',
  },
  // underpaid: pA, half the amount, settled
  {
    from: 'underpaid',
    to: 'awaiting_payment',
    setup: [seenA(half, 2)],
    fact: removed('pA'),
    now: AT_120,
    why: 'the partial payment is double-spent before expiry',
  },
  {
    from: 'underpaid',
    to: 'detected',
    setup: [seenA(half, 2)],
    fact: reorged('pA'),
    now: AT_120,
    why: 'the partial payment is reorged back to the mempool',
  },
  {
    from: 'underpaid',
    to: 'confirming',
    setup: [seenA(half, 2)],
    fact: paymentSeen({ paymentId: 'pB', amount: half }),
    now: AT_120,
    why: 'a top-up appears in the mempool',
  },
  {
    from: 'underpaid',
    to: 'paid',
    setup: [seenA(half, 2)],
    fact: paymentSeen({ paymentId: 'pB', amount: half, confirmations: 2 }),
    now: AT_120,
    why: 'a settled top-up completes the invoice',
  },
  {
    from: 'underpaid',
    to: 'paid',
    setup: [seenA(half, 2)],
    fact: markPaid('rest paid in cash'),
    now: AT_120,
    why: 'operator marks paid',
  },
  {
    from: 'underpaid',
    to: 'overpaid',
    setup: [seenA(half, 2)],
    fact: paymentSeen({ paymentId: 'pB', amount: due, confirmations: 2 }),
    now: AT_120,
    exceptions: ['overpayment'],
    why: 'the top-up is too large',
  },
  {
    from: 'underpaid',
    to: 'late_paid',
    setup: [seenA(half, 2)],
    fact: paymentSeen({ paymentId: 'pL', amount: half, confirmations: 2 }),
    now: LATE,
    exceptions: ['late_payment'],
    why: 'the top-up arrives after expiry',
  },
  {
    from: 'underpaid',
    to: 'expired',
    setup: [seenA(half, 2)],
    fact: removed('pA'),
    now: LATE,
    why: 'the partial payment is double-spent after expiry',
  },
  {
    from: 'underpaid',
    to: 'failed',
    setup: [seenA(half, 2)],
    fact: markFailed(),
    now: AT_120,
    why: 'operator marks failed',
  },
  {
    from: 'underpaid',
    to: 'partially_refunded',
    setup: [seenA(half, 2)],
    fact: refund(half / 2n),
    now: AT_120,
    why: 'part of the partial payment refunded',
  },
  {
    from: 'underpaid',
    to: 'refunded',
    setup: [seenA(half, 2)],
    fact: refund(half),
    now: AT_120,
    why: 'the partial payment refunded',
  },
  // paid: pA, full amount, settled
  {
    from: 'paid',
    to: 'awaiting_payment',
    setup: [seenA(due, 2)],
    fact: removed('pA'),
    now: AT_120,
    exceptions: ['reorg_after_paid'],
    why: 'double-spent by a reorg before expiry',
  },
  {
    from: 'paid',
    to: 'detected',
    setup: [seenA(due, 2)],
    fact: reorged('pA'),
    now: AT_120,
    exceptions: ['reorg_after_paid'],
    why: 'reorged back to the mempool',
  },
  {
    from: 'paid',
    to: 'confirming',
    setup: [seenA(due, 2)],
    fact: confirmations('pA', 1),
    now: AT_120,
    exceptions: ['reorg_after_paid'],
    why: 'depth drops under the threshold',
  },
  {
    from: 'paid',
    to: 'underpaid',
    setup: [seenA(half, 2), seenB(half, 2)],
    fact: removed('pB'),
    now: AT_120,
    exceptions: ['reorg_after_paid'],
    why: 'one of two partial payments is double-spent',
  },
  {
    from: 'paid',
    to: 'overpaid',
    setup: [seenA(due, 0), seenB(due, 0), [confirmations('pA', 2), AT_120]],
    fact: confirmations('pB', 2),
    now: at(180),
    exceptions: ['overpayment'],
    why: 'a second full payment, credited while both were in the mempool, reaches depth',
  },
  {
    from: 'paid',
    to: 'late_paid',
    setup: [seenLate(due, 0), [markPaid('customer sent proof'), LATER]],
    fact: confirmations('pL', 2),
    now: at(EXPIRY_SECONDS + 700),
    why: 'manually paid, then the late payment in flight settles: it is late money',
  },
  {
    from: 'paid',
    to: 'expired',
    setup: [seenA(due, 2)],
    fact: removed('pA'),
    now: LATE,
    exceptions: ['reorg_after_paid'],
    why: 'double-spent after expiry',
  },
  {
    from: 'paid',
    to: 'partially_refunded',
    setup: [seenA(due, 2)],
    fact: refund(half),
    now: AT_120,
    why: 'half refunded',
  },
  {
    from: 'paid',
    to: 'refunded',
    setup: [seenA(due, 2)],
    fact: refund(due),
    now: AT_120,
    why: 'fully refunded',
  },
  // overpaid: pA, double the amount, settled
  {
    from: 'overpaid',
    to: 'awaiting_payment',
    setup: [seenA(2n * due, 2)],
    fact: removed('pA'),
    now: AT_120,
    exceptions: ['reorg_after_paid'],
    why: 'double-spent before expiry',
  },
  {
    from: 'overpaid',
    to: 'detected',
    setup: [seenA(2n * due, 2)],
    fact: reorged('pA'),
    now: AT_120,
    exceptions: ['reorg_after_paid'],
    why: 'reorged back to the mempool',
  },
  {
    from: 'overpaid',
    to: 'confirming',
    setup: [seenA(2n * due, 2)],
    fact: confirmations('pA', 1),
    now: AT_120,
    exceptions: ['reorg_after_paid'],
    why: 'depth drops under the threshold',
  },
  {
    from: 'overpaid',
    to: 'underpaid',
    setup: [seenA(half, 2), seenB(due, 2)],
    fact: removed('pB'),
    now: AT_120,
    exceptions: ['reorg_after_paid'],
    why: 'the larger of two payments is double-spent',
  },
  {
    from: 'overpaid',
    to: 'paid',
    setup: [seenA(half, 2), seenB(due, 2)],
    fact: removed('pA'),
    now: AT_120,
    why: 'the excess payment is double-spent',
  },
  {
    from: 'overpaid',
    to: 'late_paid',
    setup: [seenA(due, 0), seenLate(due, 2), [confirmations('pA', 2), LATER]],
    fact: reorged('pA'),
    now: at(EXPIRY_SECONDS + 700),
    why: 'the on-time half of an overpayment is reorged: only the late money still settles it',
  },
  {
    from: 'overpaid',
    to: 'expired',
    setup: [seenA(2n * due, 2)],
    fact: removed('pA'),
    now: LATE,
    exceptions: ['reorg_after_paid'],
    why: 'double-spent after expiry',
  },
  {
    from: 'overpaid',
    to: 'partially_refunded',
    setup: [seenA(2n * due, 2)],
    fact: refund(due),
    now: AT_120,
    why: 'the excess refunded',
  },
  {
    from: 'overpaid',
    to: 'refunded',
    setup: [seenA(2n * due, 2)],
    fact: refund(2n * due),
    now: AT_120,
    why: 'everything refunded',
  },
  // late_paid
  {
    from: 'late_paid',
    to: 'detected',
    setup: [seenA(due, 0), seenLate(due, 2)],
    fact: reorged('pL'),
    now: LATER,
    exceptions: ['reorg_after_paid'],
    why: 'the late payment is reorged; the on-time one is still in the mempool',
  },
  {
    from: 'late_paid',
    to: 'confirming',
    setup: [seenA(due, 1), seenLate(due, 2)],
    fact: reorged('pL'),
    now: LATER,
    exceptions: ['reorg_after_paid'],
    why: 'the late payment is reorged; the on-time one has 1 of 2 confirmations',
  },
  {
    from: 'late_paid',
    to: 'underpaid',
    setup: [seenA(half, 2), seenLate(half, 2)],
    fact: removed('pL'),
    now: LATER,
    exceptions: ['reorg_after_paid'],
    why: 'the late top-up is double-spent',
  },
  {
    from: 'late_paid',
    to: 'paid',
    spec: GENEROUS,
    setup: [seenA(due, 0), seenLate(due, 2)],
    fact: confirmations('pA', 2),
    now: LATER,
    why: 'the on-time payment settles too: it alone completes the invoice (excess within a 100% tolerance)',
  },
  {
    from: 'late_paid',
    to: 'overpaid',
    setup: [seenA(due, 0), seenLate(due, 2)],
    fact: confirmations('pA', 2),
    now: LATER,
    exceptions: ['overpayment'],
    why: 'the on-time payment settles too: on-time value completes it, the late value is excess',
  },
  {
    from: 'late_paid',
    to: 'expired',
    setup: [seenLate(due, 2)],
    fact: removed('pL'),
    now: LATER,
    exceptions: ['reorg_after_paid'],
    why: 'the late payment is double-spent',
  },
  {
    from: 'late_paid',
    to: 'partially_refunded',
    setup: [seenLate(due, 2)],
    fact: refund(half),
    now: LATER,
    why: 'half refunded',
  },
  {
    from: 'late_paid',
    to: 'refunded',
    setup: [seenLate(due, 2)],
    fact: refund(due),
    now: LATER,
    why: 'fully refunded',
  },
  // expired
  {
    from: 'expired',
    to: 'detected',
    setup: [[expiryDue(), LATE]],
    fact: paymentSeen({ amount: due, rbf: true, seenAt: BEFORE_EXPIRY }),
    now: LATER,
    why: 'a payment broadcast before expiry is reported after it (on time, in the mempool)',
  },
  {
    from: 'expired',
    to: 'confirming',
    setup: [[expiryDue(), LATE]],
    fact: paymentSeen({ amount: due, confirmations: 1, seenAt: BEFORE_EXPIRY }),
    now: LATER,
    why: 'an on-time payment reported late with 1 confirmation',
  },
  {
    from: 'expired',
    to: 'paid',
    setup: [[expiryDue(), LATE]],
    fact: paymentSeen({ amount: due, confirmations: 2, seenAt: BEFORE_EXPIRY }),
    now: LATER,
    why: 'an on-time payment reported late at depth',
  },
  {
    from: 'expired',
    to: 'paid',
    setup: [[expiryDue(), LATE]],
    fact: markPaid('paid by bank transfer'),
    now: LATER,
    why: 'operator marks paid',
  },
  {
    from: 'expired',
    to: 'overpaid',
    setup: [[expiryDue(), LATE]],
    fact: paymentSeen({ amount: 2n * due, confirmations: 2, seenAt: BEFORE_EXPIRY }),
    now: LATER,
    exceptions: ['overpayment'],
    why: 'an on-time double payment reported late at depth',
  },
  {
    from: 'expired',
    to: 'underpaid',
    setup: [[expiryDue(), LATE]],
    fact: paymentSeen({ amount: half, confirmations: 2, seenAt: BEFORE_EXPIRY }),
    now: LATER,
    why: 'an on-time half payment reported late at depth',
  },
  {
    from: 'expired',
    to: 'late_paid',
    setup: [[expiryDue(), LATE]],
    fact: paymentSeen({ amount: due, confirmations: 2 }),
    now: LATER,
    exceptions: ['late_payment'],
    why: 'a full payment inside the monitoring window',
  },
  {
    from: 'expired',
    to: 'failed',
    setup: [[expiryDue(), LATE]],
    fact: markFailed(),
    now: LATER,
    why: 'operator marks failed',
  },
  {
    from: 'expired',
    to: 'partially_refunded',
    setup: [seenLate(due, 0)],
    fact: refund(half),
    now: LATER,
    why: 'a late payment still in the mempool is partly refunded',
  },
  {
    from: 'expired',
    to: 'refunded',
    setup: [seenLate(due, 0)],
    fact: refund(due),
    now: LATER,
    why: 'a late payment still in the mempool is refunded',
  },
  // frozen statuses
  {
    from: 'partially_refunded',
    to: 'refunded',
    setup: [seenA(due, 2), [refund(half), AT_120]],
    fact: refund(half),
    now: at(180),
    why: 'the rest refunded',
  },
  {
    from: 'failed',
    to: 'partially_refunded',
    setup: [seenA(due, 0), [markFailed(), AT_120]],
    fact: refund(half),
    now: at(180),
    why: 'part of the payment on a failed invoice refunded',
  },
  {
    from: 'failed',
    to: 'refunded',
    setup: [seenA(due, 0), [markFailed(), AT_120]],
    fact: refund(due),
    now: at(180),
    why: 'the payment on a failed invoice refunded',
  },
  // A cancelled invoice never holds credited value when reached by facts (cancel is only allowed with
  // nothing paid, and later money is an unmatched deposit), so these start from a stored state built
  // by hand: a cancelled invoice with a credited payment.
  {
    from: 'cancelled',
    to: 'partially_refunded',
    start: cancelledWithCreditedPayment,
    fact: refund(half),
    now: AT_120,
    why: 'hand-built state: part of a credited payment refunded',
  },
  {
    from: 'cancelled',
    to: 'refunded',
    start: cancelledWithCreditedPayment,
    fact: refund(due),
    now: AT_120,
    why: 'hand-built state: the credited payment refunded',
  },
];

// Reverted refunds: from refunded and from partially_refunded, to where the invoice would be
// without the refund. `setup` reaches the refunded state (with what happened meanwhile);
// the fact reverts the whole refunded amount.
interface RevertCase {
  to: InvoiceStatus;
  before: Step[];
  refundedFrom: InvoiceStatus;
  /** What happens while the invoice is frozen, after the refund. */
  meanwhile?: Step[];
  now: Date;
  start?: () => Invoice;
  amount?: bigint;
  why: string;
}
const AT_300 = at(300);
const REVERT_CASES: RevertCase[] = [
  {
    to: 'paid',
    before: [seenA(due, 2)],
    refundedFrom: 'paid',
    now: AT_300,
    why: 'the refund of a paid invoice is orphaned',
  },
  {
    to: 'overpaid',
    before: [seenA(2n * due, 2)],
    refundedFrom: 'overpaid',
    amount: 2n * due,
    now: AT_300,
    why: 'the refund of an overpaid invoice is orphaned',
  },
  {
    to: 'underpaid',
    before: [seenA(half, 2)],
    refundedFrom: 'underpaid',
    amount: half,
    now: AT_300,
    why: 'the refund of a partial payment is orphaned',
  },
  {
    to: 'late_paid',
    before: [seenLate(due, 2)],
    refundedFrom: 'late_paid',
    now: LATER,
    why: 'the refund of a late payment is orphaned',
  },
  {
    to: 'expired',
    before: [seenLate(due, 0)],
    refundedFrom: 'expired',
    now: LATER,
    why: 'the refund of a late payment still in flight is orphaned',
  },
  {
    to: 'detected',
    before: [seenA(due, 2)],
    refundedFrom: 'paid',
    meanwhile: [[reorged('pA'), at(200)]],
    now: AT_300,
    why: 'the payment was reorged too while refunded: derived again, not copied',
  },
  {
    to: 'confirming',
    before: [seenA(due, 2)],
    refundedFrom: 'paid',
    meanwhile: [[confirmations('pA', 1), at(200)]],
    now: AT_300,
    why: 'the payment lost depth while refunded',
  },
  {
    to: 'awaiting_payment',
    before: [seenA(due, 2)],
    refundedFrom: 'paid',
    meanwhile: [[removed('pA'), at(200)]],
    now: AT_300,
    why: 'the payment was double-spent while refunded, before expiry',
  },
  {
    to: 'failed',
    before: [seenA(due, 0), [markFailed(), AT_120]],
    refundedFrom: 'failed',
    now: AT_300,
    why: "the operator's failed stands",
  },
  {
    to: 'cancelled',
    before: [],
    start: cancelledWithCreditedPayment,
    refundedFrom: 'cancelled',
    now: AT_300,
    why: 'hand-built state: a cancelled invoice stays cancelled',
  },
];

function revertScenarios(): PairScenario[] {
  const out: PairScenario[] = [];
  for (const c of REVERT_CASES) {
    const amount = c.amount ?? due;
    for (const from of ['refunded', 'partially_refunded'] as const) {
      // Partially: the refund reverted was the only one and took part of the money.
      const refunded = from === 'refunded' ? amount : amount / 2n;
      const after = (invoice: Invoice) =>
        drive(invoice, [[refund(refunded), at(180)], ...(c.meanwhile ?? [])]);
      out.push({
        from,
        to: c.to,
        start: () => after(c.start ? c.start() : drive(buildInvoice(), c.before)),
        fact: revert(refunded, c.refundedFrom),
        now: c.now,
        why: c.why,
      });
    }
  }
  out.push({
    from: 'refunded',
    to: 'partially_refunded',
    setup: [seenA(due, 2), [refund(half), AT_120], [refund(half), at(180)]],
    fact: revert(half, 'paid'),
    now: AT_300,
    why: 'the second of two refunds is orphaned',
  });
  return out;
}
SCENARIOS.push(...revertScenarios());
// An orphaned refund mined again before the invoice's own payment, reorged with it, settles again
// (the refund spends the payment: they come back together, the refund first booked at depth 1).
for (const [from, conf] of [
  ['detected', 0],
  ['confirming', 1],
] as const)
  for (const [to, amount] of [
    ['partially_refunded', half],
    ['refunded', due],
  ] as const)
    SCENARIOS.push({
      from,
      to,
      setup: [
        seenA(due, 2),
        [refund(due), AT_120],
        [reorged('pA'), at(150)],
        [revert(due, 'paid'), at(160)],
      ].concat(conf > 0 ? [[confirmations('pA', conf), at(170)]] : []) as Step[],
      fact: refund(amount),
      now: at(180),
      why: 'the orphaned refund is mined again before the payment settles again',
    });

function cancelledWithCreditedPayment(): Invoice {
  const paid = drive(buildInvoice(), [seenA(due, 2)]);
  return { ...paid, status: 'cancelled' };
}

function startOf(s: PairScenario): Invoice {
  return s.start ? s.start() : drive(buildInvoice(s.spec), s.setup ?? []);
}

/** Seconds after T0 of the last setup step (the clock never runs backwards). */
function lastSetupTime(s: PairScenario): number {
  return Math.max(0, ...(s.setup ?? []).map(([, when]) => secondsOf(when)));
}

function secondsOf(when: Date): number {
  return (when.getTime() - at(0).getTime()) / 1000;
}

describe('transition table: every allowed pair is produced by a concrete scenario', () => {
  it('has a scenario for every allowed pair and none for a forbidden one', () => {
    const covered = new Set(SCENARIOS.map((s) => key(s.from, s.to)));
    expect([...covered].sort()).toEqual(ALLOWED_PAIRS.map(([from, to]) => key(from, to)).sort());
  });

  it.each(SCENARIOS.map((s) => [key(s.from, s.to), s.fact.kind, s.why, s] as const))(
    '%s on %s: %s',
    (_name, _kind, _why, s) => {
      const start = startOf(s);
      expect(start.status).toBe(s.from);
      expect(secondsOf(s.now)).toBeGreaterThanOrEqual(lastSetupTime(s));

      const result = transition(start, s.fact, s.now);

      expect(result.rejected).toBeNull();
      expect(result.invoice.status).toBe(s.to);
      const fact = s.fact;
      const actor = 'actor' in fact ? fact.actor : null;
      const reason = fact.kind === 'mark_paid' || fact.kind === 'mark_failed' ? fact.reason : null;
      expect(result.transitions).toEqual([
        { from: s.from, to: s.to, causeId: fact.id, causeKind: fact.kind, actor, reason },
      ]);
      expect(isAllowed(s.from, s.to, s.fact.kind)).toBe(true);
      const statusEvents = result.events.filter((e) => e.type.startsWith('invoice.'));
      expect(statusEvents.map((e) => e.type)).toEqual([`invoice.${s.to}`]);
      expect(result.events.at(-1)?.type).toBe(`invoice.${s.to}`);
      expect(result.events.map((e) => e.sequence)).toEqual(
        result.events.map((_, i) => start.sequence + i + 1),
      );
      expect(result.exceptions.map((e) => e.kind)).toEqual(s.exceptions ?? []);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Forbidden pairs never happen: from every scenario's starting state (and the state it leads to),
// a battery of facts at several times must neither throw nor record a pair the table forbids.

function battery(invoice: Invoice): Fact[] {
  const facts: Fact[] = [];
  for (const p of invoice.payments) {
    for (const n of [0, 1, 2, 6]) facts.push(confirmations(p.id, n));
    facts.push(reorged(p.id), removed(p.id));
    for (const amount of [half, due, 2n * due]) {
      facts.push(removed(p.id, observed({ amount, optionId: p.optionId, confirmations: 0, rbf: false })));
      facts.push(removed(p.id, observed({ amount, optionId: p.optionId, confirmations: 3 })));
    }
  }
  for (const amount of [1n, half, due, 2n * due]) {
    for (const conf of [0, 1, 2]) {
      for (const rbf of [false, true]) facts.push(paymentSeen({ amount, confirmations: conf, rbf }));
      facts.push(paymentSeen({ amount, confirmations: conf, optionId: OPTION_B }));
      facts.push(paymentSeen({ amount, confirmations: conf, seenAt: BEFORE_EXPIRY }));
    }
  }
  facts.push(optionsAssigned(), expiryDue(), windowClosed(), merchantCancel(), markPaid(), markFailed());
  facts.push(refund(1n), refund(half), refund(due), refund(3n * due));
  for (const from of [
    'paid',
    'overpaid',
    'underpaid',
    'late_paid',
    'expired',
    'failed',
    'cancelled',
  ] as const)
    for (const amount of [1n, half, due, 2n * due]) facts.push(revert(amount, from));
  facts.push(revert(half, 'detected'));
  return facts;
}

const FORBIDDEN = new Set(FORBIDDEN_PAIRS.map(([from, to]) => key(from, to)));

describe('transition table: forbidden pairs never happen', () => {
  it('lists 67 forbidden pairs', () => {
    expect(FORBIDDEN.size).toBe(13 * 13 - 102);
  });

  it.each(SCENARIOS.map((s) => [key(s.from, s.to), s.why, s] as const))(
    'from the states of "%s (%s)" no fact yields a forbidden pair',
    (_name, _why, s) => {
      const first = startOf(s);
      const second = transition(first, s.fact, s.now).invoice;
      const base = Math.max(lastSetupTime(s), secondsOf(s.now));
      const times = [base + 1, EXPIRY_SECONDS + 1, EXPIRY_SECONDS + 3600, EXPIRY_SECONDS + 2 * 86_400]
        .filter((t) => t >= base)
        .map(at);
      let checked = 0;
      for (const start of [first, second]) {
        for (const fact of battery(start)) {
          for (const now of times) {
            const result = transition(start, fact, now);
            for (const t of result.transitions) {
              expect(FORBIDDEN.has(key(t.from, t.to)), `${key(t.from, t.to)} on ${t.causeKind}`).toBe(false);
              expect(isAllowed(t.from, t.to, t.causeKind)).toBe(true);
            }
            checked += 1;
          }
        }
      }
      expect(checked).toBeGreaterThan(0);
    },
  );

  it('after-window money and frozen statuses record no transition from chain facts', () => {
    const cancelled = drive(buildInvoice(), [[merchantCancel(), BEFORE_EXPIRY]]);
    const result = transition(cancelled, paymentSeen({ amount: due, confirmations: 6 }), AFTER_WINDOW);
    expect(result.transitions).toEqual([]);
    expect(result.exceptions.map((e) => e.kind)).toEqual(['unmatched_deposit']);
  });
});
