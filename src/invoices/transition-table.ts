import type { FactKind } from './facts.ts';
import type { InvoiceStatus } from './types.ts';

/**
 * Every status change the state machine may make, and the facts allowed to cause it. Anything not
 * listed is forbidden: `transition()` refuses to produce it and the table test enumerates all pairs.
 * docs/transition-table.md is this table in prose.
 */
const CHAIN: FactKind[] = ['payment_seen', 'payment_confirmations', 'payment_removed', 'payment_reorged'];
/**
 * Facts that change the value of payments already recorded (a removal or replacement, a reorg, a depth that
 * went up or down): the only way out of a settled status, and the only way between settled statuses.
 */
const LOSS: FactKind[] = ['payment_removed', 'payment_reorged', 'payment_confirmations'];
const CLOCK: FactKind[] = ['expiry_due', 'window_closed'];
const REFUND: FactKind[] = ['refund_completed'];
/**
 * A completed refund whose transaction was orphaned by a reorg (src/refunds/revert-refund.ts):
 * the invoice leaves the refund statuses for what it would be without that refund — still
 * partially refunded, the operator's `failed`/`cancelled`, or whatever its payments now call for.
 */
const REVERT: FactKind[] = ['refund_reverted'];
const UNREFUNDED: Partial<Record<InvoiceStatus, readonly FactKind[]>> = {
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
};

type Table = Record<InvoiceStatus, Partial<Record<InvoiceStatus, readonly FactKind[]>>>;

const ANY_CHAIN_OR_CLOCK = [...CHAIN, ...CLOCK];

export const TRANSITIONS: Table = {
  created: { awaiting_payment: ['options_assigned'], cancelled: ['merchant_cancel'] },
  awaiting_payment: {
    detected: CHAIN,
    confirming: CHAIN,
    paid: CHAIN,
    overpaid: CHAIN,
    underpaid: CHAIN,
    late_paid: CHAIN,
    expired: ANY_CHAIN_OR_CLOCK,
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
    // Only from the chain: an orphaned refund (REVERT) is mined again while its invoice's own
    // payment, reorged with it, has not settled again yet. The money left; the refund happened.
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

export function isAllowed(from: InvoiceStatus, to: InvoiceStatus, cause: FactKind): boolean {
  return TRANSITIONS[from][to]?.includes(cause) ?? false;
}

/** Statuses in which the invoice counts as settled for the merchant (fulfilment allowed). */
export const SETTLED_STATUSES: ReadonlySet<InvoiceStatus> = new Set(['paid', 'overpaid', 'late_paid']);

/** Statuses a refund may start from (and so that a reverted first refund may return to). */
export const REFUNDABLE_STATUSES: ReadonlySet<InvoiceStatus> = new Set(
  (Object.keys(TRANSITIONS) as InvoiceStatus[]).filter(
    (from) => from !== 'partially_refunded' && isAllowed(from, 'refunded', 'refund_completed'),
  ),
);

/** Statuses no chain fact can change; new money there only opens exceptions. */
export const FROZEN_STATUSES: ReadonlySet<InvoiceStatus> = new Set([
  'cancelled',
  'failed',
  'partially_refunded',
  'refunded',
]);
