import { formatAmount } from '../core/money.ts';
import { deriveStatus } from './derive-status.ts';
import type { Actor, Fact, FactKind, ObservedPayment } from './facts.ts';
import { totals } from './settlement-math.ts';
import { FROZEN_STATUSES, isAllowed, REFUNDABLE_STATUSES, SETTLED_STATUSES } from './transition-table.ts';
import {
  INVOICE_STATUSES,
  type Invoice,
  type InvoiceStatus,
  monitoringUntil,
  type Payment,
  type PaymentTiming,
} from './types.ts';

export type ExceptionKind =
  | 'late_payment'
  | 'underpayment'
  | 'overpayment'
  | 'duplicate_payment'
  | 'unmatched_deposit'
  | 'reorg_after_paid'
  | 'other_option_payment'
  | 'wrong_network'
  | 'wrong_asset';

export interface TransitionRecord {
  from: InvoiceStatus;
  to: InvoiceStatus;
  causeId: string;
  causeKind: FactKind;
  actor: Actor | null;
  reason: string | null;
}

export interface EmittedEvent {
  type: string;
  sequence: number;
  paymentId: string | null;
}

export interface OpenedException {
  kind: ExceptionKind;
  paymentId: string | null;
  evidence: Record<string, string | number | boolean | null>;
}

export interface TransitionResult {
  invoice: Invoice;
  transitions: TransitionRecord[];
  events: EmittedEvent[];
  exceptions: OpenedException[];
  /** Set when the fact could not apply (unknown payment, action not allowed now); nothing changed. */
  rejected: string | null;
}

/**
 * The one place invoice state changes: a pure function of the invoice, one fact and the clock.
 * It records what the fact says about payments, derives the status the payments call for, checks
 * that move against the transition table, and returns the transitions, events and exceptions that
 * storage writes in one database transaction.
 */
export function transition(current: Invoice, fact: Fact, now: Date): TransitionResult {
  const invoice: Invoice = { ...current, payments: current.payments.map((p) => ({ ...p })) };
  const out: TransitionResult = { invoice, transitions: [], events: [], exceptions: [], rejected: null };
  const emit = (type: string, paymentId: string | null = null) => {
    invoice.sequence += 1;
    out.events.push({ type, sequence: invoice.sequence, paymentId });
  };
  const reject = (why: string): TransitionResult => ({
    invoice: current,
    transitions: [],
    events: [],
    exceptions: [],
    rejected: why,
  });

  // Until options are assigned nothing can be paid or expire: only assignment or cancellation applies.
  if (invoice.status === 'created' && fact.kind !== 'options_assigned' && fact.kind !== 'merchant_cancel') {
    return reject('options are not assigned yet');
  }

  switch (fact.kind) {
    case 'options_assigned':
      if (invoice.status !== 'created') return reject('options are already assigned');
      return move(out, 'awaiting_payment', fact, null, null, emit);
    case 'payment_seen': {
      if (invoice.payments.some((p) => p.id === fact.payment.paymentId || sameOutput(p, fact.payment))) {
        return reject('payment already recorded');
      }
      if (!invoice.options.some((o) => o.id === fact.payment.optionId))
        return reject('unknown payment option');
      recordPayment(invoice, fact.payment, now, out, emit);
      break;
    }
    case 'payment_confirmations': {
      const payment = invoice.payments.find((p) => p.id === fact.paymentId);
      if (!payment) return reject('unknown payment');
      if (payment.confirmations === fact.confirmations && payment.blockHash === fact.blockHash) {
        return reject('no change');
      }
      if (payment.removed) {
        // Mined after all: a transaction thought replaced or dropped won the race. Its money is real.
        if (fact.confirmations < 1 || fact.blockHash === null) return reject('removed payment');
        payment.removed = false;
        payment.removedReason = null;
        payment.credited = false;
        payment.confirmations = fact.confirmations;
        payment.blockHash = fact.blockHash;
        payment.blockHeight = fact.blockHeight;
        emit('payment.restored', payment.id);
        if (atDepth(invoice, payment)) emit('payment.confirmed', payment.id);
        classifyPayment(invoice, payment, out, emit);
        break;
      }
      const wasDeep = atDepth(invoice, payment);
      payment.confirmations = Math.max(0, fact.confirmations);
      payment.blockHash = fact.blockHash;
      payment.blockHeight = fact.blockHeight;
      if (!wasDeep && atDepth(invoice, payment)) emit('payment.confirmed', payment.id);
      break;
    }
    case 'payment_reorged': {
      const payment = invoice.payments.find((p) => p.id === fact.paymentId);
      if (!payment || payment.removed) return reject('unknown or removed payment');
      if (payment.confirmations === 0 && payment.blockHash === null) return reject('no change');
      payment.confirmations = 0;
      payment.blockHash = null;
      payment.blockHeight = null;
      emit('payment.reorged', payment.id);
      break;
    }
    case 'payment_removed': {
      const payment = invoice.payments.find((p) => p.id === fact.paymentId);
      if (!payment || payment.removed) return reject('unknown or removed payment');
      payment.removed = true;
      payment.removedReason = fact.reason;
      emit('payment.replaced', payment.id);
      if (fact.replacement) {
        const replacement = fact.replacement;
        // The replacement may already be recorded (seen before the removal): never record or credit it twice.
        const known = invoice.payments.find(
          (p) => p.id === replacement.paymentId || sameOutput(p, replacement),
        );
        if (!known) recordPayment(invoice, replacement, now, out, emit, payment);
        else if (
          payment.credited &&
          !known.credited &&
          !known.removed &&
          known.optionId === payment.optionId
        ) {
          known.credited = true;
          known.timing = payment.timing;
        }
      }
      // With no credited money left, any option may be paid again (the customer may switch).
      if (!invoice.payments.some((p) => p.credited && !p.removed)) invoice.selectedOptionId = null;
      break;
    }
    case 'expiry_due':
    case 'window_closed':
      if (now.getTime() < invoice.expiresAt.getTime()) return reject('not yet expired');
      if (fact.kind === 'window_closed') {
        if (now.getTime() < monitoringUntil(invoice).getTime()) return reject('window still open');
        if (invoice.status === 'underpaid') {
          const t = totals(invoice);
          out.exceptions.push({
            kind: 'underpayment',
            paymentId: null,
            evidence: {
              ...money('paid', t.settled, t.option),
              ...money('due', t.option?.amountDue ?? 0n, t.option),
              asset: t.option?.asset ?? null,
            },
          });
          emit('exception.opened');
        }
      }
      break;
    case 'merchant_cancel':
      if (invoice.status !== 'created' && invoice.status !== 'awaiting_payment') {
        return reject(`cannot cancel an invoice that is ${invoice.status}`);
      }
      return move(out, 'cancelled', fact, fact.actor, null, emit);
    case 'mark_paid':
      if (!isAllowed(invoice.status, 'paid', 'mark_paid'))
        return reject(
          `the invoice is ${invoice.status}; mark_paid is allowed from ${allowedFrom('paid', 'mark_paid')}`,
        );
      invoice.manuallyPaid = true;
      return move(out, 'paid', fact, fact.actor, fact.reason, emit);
    case 'mark_failed':
      if (!isAllowed(invoice.status, 'failed', 'mark_failed'))
        return reject(
          `the invoice is ${invoice.status}; mark_failed is allowed from ${allowedFrom('failed', 'mark_failed')}`,
        );
      return move(out, 'failed', fact, fact.actor, fact.reason, emit);
    case 'refund_completed': {
      const received = invoice.payments
        .filter((p) => p.credited && !p.removed)
        .reduce((s, p) => s + p.amount, 0n);
      if (fact.amount <= 0n || received === 0n) return reject('nothing to refund');
      // Never book more refunded than was received: the ledger could not balance.
      if (invoice.refundedAmount + fact.amount > received)
        return reject('refund exceeds the amount received');
      const to = invoice.refundedAmount + fact.amount >= received ? 'refunded' : 'partially_refunded';
      if (to !== invoice.status && !isAllowed(invoice.status, to, fact.kind)) {
        return reject(`cannot refund from ${invoice.status}`);
      }
      invoice.refundedAmount += fact.amount;
      // Every refund that moves money is an event, also a second partial one that changes no status.
      emit('refund.completed');
      if (to === invoice.status) return out;
      return move(out, to, fact, fact.actor, null, emit);
    }
    case 'refund_reverted': {
      if (invoice.status !== 'refunded' && invoice.status !== 'partially_refunded')
        return reject(`nothing refunded to revert: the invoice is ${invoice.status}`);
      if (fact.amount <= 0n || fact.amount > invoice.refundedAmount)
        return reject('revert exceeds the amount refunded');
      if (!REFUNDABLE_STATUSES.has(fact.refundedFrom))
        return reject(`cannot return to ${fact.refundedFrom}: no refund starts there`);
      invoice.refundedAmount -= fact.amount;
      emit('refund.reverted');
      // Still something refunded: partially. Nothing: the operator's failed/cancelled stand as they
      // were; otherwise the status is what the payments and the clock call for now (they may have
      // changed while the invoice was frozen), never a stale "paid" copied from before the refund.
      const to =
        invoice.refundedAmount > 0n
          ? 'partially_refunded'
          : FROZEN_STATUSES.has(fact.refundedFrom)
            ? fact.refundedFrom
            : deriveStatus(invoice, now);
      if (to === invoice.status) return out;
      return move(out, to, fact, fact.actor, null, emit);
    }
    default:
      return assertNever(fact);
  }

  if (FROZEN_STATUSES.has(invoice.status)) return out;
  const next = deriveStatus(invoice, now);
  if (next === invoice.status) return out;
  if (SETTLED_STATUSES.has(invoice.status) && !SETTLED_STATUSES.has(next)) {
    out.exceptions.push({
      kind: 'reorg_after_paid',
      paymentId: 'paymentId' in fact ? fact.paymentId : null,
      evidence: { previous_status: invoice.status, new_status: next, cause: fact.kind },
    });
    emit('exception.opened');
  }
  if (next === 'overpaid') {
    const t = totals(invoice);
    out.exceptions.push({
      kind: 'overpayment',
      paymentId: null,
      evidence: {
        ...money('excess', t.settled - (t.option?.amountDue ?? 0n), t.option),
        ...money('due', t.option?.amountDue ?? 0n, t.option),
        asset: t.option?.asset ?? null,
      },
    });
    emit('exception.opened');
  }
  return move(out, next, fact, null, null, emit);
}

function move(
  out: TransitionResult,
  to: InvoiceStatus,
  fact: Fact,
  actor: Actor | null,
  reason: string | null,
  emit: (type: string) => void,
): TransitionResult {
  const from = out.invoice.status;
  if (!isAllowed(from, to, fact.kind)) {
    // A bug, not an input problem: the derivation asked for a move the table forbids.
    throw new Error(`forbidden transition ${from} → ${to} on ${fact.kind}`);
  }
  out.invoice.status = to;
  out.transitions.push({ from, to, causeId: fact.id, causeKind: fact.kind, actor, reason });
  emit(`invoice.${to}`);
  return out;
}

function sameOutput(p: Payment, o: ObservedPayment): boolean {
  return p.txid === o.txid && p.outputIndex === o.outputIndex && p.optionId === o.optionId;
}

function timingOf(invoice: Invoice, seenAt: Date): PaymentTiming {
  if (seenAt.getTime() < invoice.expiresAt.getTime()) return 'on_time';
  return seenAt.getTime() < monitoringUntil(invoice).getTime() ? 'late' : 'after_window';
}

/** Records a new payment, deciding whether it is credited or is an exception. */
function recordPayment(
  invoice: Invoice,
  observed: ObservedPayment,
  now: Date,
  out: TransitionResult,
  emit: (type: string, paymentId?: string | null) => void,
  replacing?: Payment,
): void {
  const seenAt = observed.seenAt && observed.seenAt < now ? observed.seenAt : now;
  // A replacement keeps the timing of the payment it replaces: the customer paid on time.
  const timing = replacing ? replacing.timing : timingOf(invoice, seenAt);
  const payment: Payment = {
    id: observed.paymentId,
    optionId: observed.optionId,
    txid: observed.txid,
    outputIndex: observed.outputIndex,
    amount: observed.amount,
    confirmations: Math.max(0, observed.confirmations),
    blockHash: observed.blockHash,
    blockHeight: observed.blockHeight,
    rbf: observed.rbf,
    seenAt,
    timing,
    credited: false,
    removed: false,
    removedReason: null,
  };
  const wrong = observed.misdirected;
  if (wrong) {
    payment.received = {
      kind: wrong.kind,
      network: wrong.network,
      asset: wrong.asset,
      decimals: wrong.decimals,
    };
  }
  invoice.payments.push(payment);
  emit('payment.detected', payment.id);
  // Seen already at its required depth (mined before the mempool showed it, or found by a catch-up
  // scan after downtime): it has reached its confirmations now. A merchant who acts on
  // payment.confirmed must hear it for this payment too, as for one that got there block by block
  // (decision 0021).
  if (atDepth(invoice, payment)) emit('payment.confirmed', payment.id);
  // Only a replacement paying the same option takes over the credit; anything else is classified as new money.
  if (replacing?.credited && replacing.optionId === payment.optionId) {
    payment.credited = true;
    return;
  }
  classifyPayment(invoice, payment, out, emit, wrong?.evidence);
}

/**
 * Whether a payment is at its option's required depth. Money on the wrong network or in the wrong
 * asset has no depth that the option's rule measures: it is never "confirmed", only an exception.
 */
function atDepth(invoice: Invoice, payment: Payment): boolean {
  if (payment.received) return false;
  const option = invoice.options.find((o) => o.id === payment.optionId);
  return option !== undefined && payment.confirmations >= option.requiredConfirmations;
}

/** Decides whether a payment (new or restored) is credited to the invoice or opens an exception. */
function classifyPayment(
  invoice: Invoice,
  payment: Payment,
  out: TransitionResult,
  emit: (type: string, paymentId?: string | null) => void,
  misdirectionEvidence: OpenedException['evidence'] = {},
): void {
  const timing = payment.timing;
  const exception = (kind: ExceptionKind, evidence: OpenedException['evidence']) => {
    out.exceptions.push({ kind, paymentId: payment.id, evidence });
    emit('exception.opened', payment.id);
  };
  // A misdirected payment's amount is in what really arrived, not in the option's asset.
  const option = invoice.options.find((o) => o.id === payment.optionId);
  const unit = payment.received ?? option;
  const evidence = {
    txid: payment.txid,
    output_index: payment.outputIndex,
    ...money('amount', payment.amount, unit),
    asset: unit?.asset ?? null,
  };

  // Money on the wrong network or in the wrong asset is never credited, whatever the invoice's
  // state: a person decides (refund it, or accept it by hand with mark_paid).
  if (payment.received) {
    exception(payment.received.kind, {
      ...evidence,
      network: payment.received.network,
      asset: payment.received.asset,
      expected_network: option?.network ?? null,
      expected_asset: option?.asset ?? null,
      ...misdirectionEvidence,
    });
    return;
  }
  if (timing === 'after_window' || FROZEN_STATUSES.has(invoice.status)) {
    exception('unmatched_deposit', { ...evidence, status: invoice.status, timing });
    return;
  }
  if (invoice.selectedOptionId && invoice.selectedOptionId !== payment.optionId) {
    exception('other_option_payment', { ...evidence, selected_option: invoice.selectedOptionId });
    return;
  }
  if (SETTLED_STATUSES.has(invoice.status)) {
    const t = totals(invoice);
    const kind = payment.amount >= t.minimum ? 'duplicate_payment' : 'overpayment';
    exception(kind, evidence);
    return;
  }
  invoice.selectedOptionId = payment.optionId;
  payment.credited = true;
  if (timing === 'late')
    exception('late_payment', { ...evidence, expires_at: invoice.expiresAt.toISOString() });
}

/**
 * An amount in exception evidence as the rest of the wire states money: a decimal string in its
 * asset, beside its base units (`due: "10"`, `due_base_units: "10000000"`). Without a known
 * asset (no option chosen) there are no decimals to place: base units only.
 */
function money(
  name: string,
  units: bigint,
  unit: { decimals: number } | undefined,
): Record<string, string | null> {
  return {
    [name]: unit ? formatAmount(units, unit.decimals) : null,
    [`${name}_base_units`]: units.toString(),
  };
}

function allowedFrom(to: InvoiceStatus, cause: FactKind): string {
  return INVOICE_STATUSES.filter((from) => isAllowed(from, to, cause)).join(', ');
}

function assertNever(value: never): never {
  throw new Error(`unhandled fact ${JSON.stringify(value)}`);
}
