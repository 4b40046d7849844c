/**
 * Builders for the invoice state machine tests: invoices with one or two payment options and
 * facts with unique ids. Times are offsets from T0 so tests read as "seconds after creation".
 */
import type { Actor, Fact, ObservedPayment } from '../../src/invoices/facts.ts';
import { type TransitionResult, transition } from '../../src/invoices/transition.ts';
import type { Invoice, InvoiceStatus, PaymentOption } from '../../src/invoices/types.ts';

export const T0 = new Date('2025-01-01T00:00:00.000Z');
/** Default expiry: 15 minutes after creation. */
export const EXPIRY_SECONDS = 15 * 60;
/** Default monitoring window after expiry: 24 hours. */
export const WINDOW_SECONDS = 24 * 60 * 60;

/** T0 plus `seconds`. */
export function at(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1000);
}

/** Handy instants for the default invoice. */
export const BEFORE_EXPIRY = at(60);
export const LATE = at(EXPIRY_SECONDS + 60);
export const AFTER_WINDOW = at(EXPIRY_SECONDS + WINDOW_SECONDS + 60);

export const OPTION_A = 'opt_btc';
export const OPTION_B = 'opt_usdc';
export const DEFAULT_DUE = 100_000n;

export const API_KEY: Actor = { kind: 'api_key', id: 'key_test' };
export const OPERATOR: Actor = { kind: 'user', id: 'usr_operator' };
export const SYSTEM: Actor = { kind: 'system', id: 'ref_test' };

export interface InvoiceSpec {
  id?: string;
  status?: InvoiceStatus;
  /** Amount due on option A, BTC on bitcoin (and, unless `amountDueB` is set, on option B, USDC on polygon). */
  amountDue?: bigint;
  amountDueB?: bigint;
  /** Number of payment options: A alone, or A and B. */
  options?: 1 | 2;
  requiredConfirmations?: number;
  zeroConfAllowed?: boolean;
  underpaymentToleranceBps?: number;
  overpaymentToleranceBps?: number;
  createdAt?: Date;
  expiresAt?: Date;
  monitoringWindowSeconds?: number;
  manuallyPaid?: boolean;
}

function option(
  id: string,
  asset: string,
  network: string,
  decimals: number,
  amountDue: bigint,
  spec: InvoiceSpec,
): PaymentOption {
  const requiredConfirmations = spec.requiredConfirmations ?? 2;
  return {
    id,
    asset,
    network,
    address: `addr_${id}`,
    derivationIndex: 0,
    walletId: `wal_${network}`,
    amountDue,
    decimals,
    requiredConfirmations,
    zeroConfAllowed: spec.zeroConfAllowed ?? false,
    confirmationReason: `test: ${requiredConfirmations} confirmations`,
    rate: null,
  };
}

/** An invoice in `awaiting_payment` (unless `status` says otherwise) with no payments yet. */
export function buildInvoice(spec: InvoiceSpec = {}): Invoice {
  const createdAt = spec.createdAt ?? T0;
  const amountDue = spec.amountDue ?? DEFAULT_DUE;
  const options = [option(OPTION_A, 'BTC', 'bitcoin', 8, amountDue, spec)];
  if (spec.options === 2)
    options.push(option(OPTION_B, 'USDC', 'polygon', 6, spec.amountDueB ?? amountDue, spec));
  return {
    id: spec.id ?? 'inv_test',
    merchantId: 'mer_test',
    status: spec.status ?? 'awaiting_payment',
    createdAt,
    expiresAt: spec.expiresAt ?? new Date(createdAt.getTime() + EXPIRY_SECONDS * 1000),
    policy: {
      underpaymentToleranceBps: spec.underpaymentToleranceBps ?? 0,
      overpaymentToleranceBps: spec.overpaymentToleranceBps ?? 0,
      monitoringWindowSeconds: spec.monitoringWindowSeconds ?? WINDOW_SECONDS,
    },
    options,
    payments: [],
    selectedOptionId: null,
    refundedAmount: 0n,
    manuallyPaid: spec.manuallyPaid ?? false,
    sequence: 0,
  };
}

let counter = 0;
/** A process-unique id with the given prefix. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}_${counter}`;
}

export interface PaymentSpec {
  amount?: bigint;
  confirmations?: number;
  rbf?: boolean;
  seenAt?: Date;
  optionId?: string;
  paymentId?: string;
  txid?: string;
  outputIndex?: number;
}

/** An observed payment (as a chain adapter reports it), unique unless ids are given. */
export function observed(spec: PaymentSpec = {}): ObservedPayment {
  const confirmations = spec.confirmations ?? 0;
  const out: ObservedPayment = {
    paymentId: spec.paymentId ?? uid('pay'),
    optionId: spec.optionId ?? OPTION_A,
    txid: spec.txid ?? uid('tx'),
    outputIndex: spec.outputIndex ?? 0,
    amount: spec.amount ?? DEFAULT_DUE,
    rbf: spec.rbf ?? false,
    confirmations,
    blockHash: confirmations > 0 ? `block_${confirmations}` : null,
    blockHeight: confirmations > 0 ? 800_000 : null,
  };
  if (spec.seenAt) out.seenAt = spec.seenAt;
  return out;
}

type FactOf<K extends Fact['kind']> = Extract<Fact, { kind: K }>;

export function paymentSeen(spec: PaymentSpec = {}): FactOf<'payment_seen'> {
  return { kind: 'payment_seen', id: uid('fact_seen'), payment: observed(spec) };
}

export function confirmations(paymentId: string, count: number): FactOf<'payment_confirmations'> {
  return {
    kind: 'payment_confirmations',
    id: uid('fact_conf'),
    paymentId,
    confirmations: count,
    blockHash: count > 0 ? `block_${count}` : null,
    blockHeight: count > 0 ? 800_000 : null,
  };
}

export function reorged(paymentId: string): FactOf<'payment_reorged'> {
  return { kind: 'payment_reorged', id: uid('fact_reorg'), paymentId };
}

export function removed(
  paymentId: string,
  replacement?: ObservedPayment,
  reason: 'replaced' | 'double_spent' | 'dropped' = replacement ? 'replaced' : 'double_spent',
): FactOf<'payment_removed'> {
  const fact: FactOf<'payment_removed'> = {
    kind: 'payment_removed',
    id: uid('fact_removed'),
    paymentId,
    reason,
  };
  if (replacement) fact.replacement = replacement;
  return fact;
}

export function optionsAssigned(): FactOf<'options_assigned'> {
  return { kind: 'options_assigned', id: uid('fact_options') };
}

export function expiryDue(): FactOf<'expiry_due'> {
  return { kind: 'expiry_due', id: uid('fact_expiry') };
}

export function windowClosed(): FactOf<'window_closed'> {
  return { kind: 'window_closed', id: uid('fact_window') };
}

export function merchantCancel(actor: Actor = API_KEY): FactOf<'merchant_cancel'> {
  return { kind: 'merchant_cancel', id: uid('fact_cancel'), actor };
}

export function markPaid(reason = 'paid by bank transfer', actor: Actor = OPERATOR): FactOf<'mark_paid'> {
  return { kind: 'mark_paid', id: uid('fact_mark_paid'), actor, reason };
}

export function markFailed(reason = 'customer abandoned', actor: Actor = OPERATOR): FactOf<'mark_failed'> {
  return { kind: 'mark_failed', id: uid('fact_mark_failed'), actor, reason };
}

export function refund(amount: bigint, actor: Actor = OPERATOR): FactOf<'refund_completed'> {
  return { kind: 'refund_completed', id: uid('fact_refund'), refundId: uid('ref'), amount, actor };
}

/** A completed refund's transaction left the chain; `refundedFrom` is the first refund's `from`. */
export function revert(
  amount: bigint,
  refundedFrom: InvoiceStatus,
  actor: Actor = SYSTEM,
): FactOf<'refund_reverted'> {
  return {
    kind: 'refund_reverted',
    id: uid('fact_revert'),
    refundId: uid('ref'),
    amount,
    refundedFrom,
    actor,
  };
}

/** One step of a scenario: a fact and the clock when it is applied. */
export type Step = readonly [Fact, Date];

/**
 * Applies steps in order and fails loudly if any is rejected: for building a starting invoice
 * from real facts rather than hand-written payment rows.
 */
export function drive(invoice: Invoice, steps: readonly Step[]): Invoice {
  let current = invoice;
  for (const [fact, now] of steps) {
    const result = transition(current, fact, now);
    if (result.rejected) throw new Error(`setup fact ${fact.kind} rejected: ${result.rejected}`);
    current = result.invoice;
  }
  return current;
}

/** Applies steps in order, returning every result (rejected ones included). */
export function run(
  invoice: Invoice,
  steps: readonly Step[],
): { invoice: Invoice; results: TransitionResult[] } {
  let current = invoice;
  const results: TransitionResult[] = [];
  for (const [fact, now] of steps) {
    const result = transition(current, fact, now);
    results.push(result);
    current = result.invoice;
  }
  return { invoice: current, results };
}

/** Event types of a result, in order. */
export function eventTypes(result: Pick<TransitionResult, 'events'>): string[] {
  return result.events.map((e) => e.type);
}

/** Status path of a run: each recorded transition's target, in order. */
export function statusPath(results: readonly TransitionResult[]): InvoiceStatus[] {
  return results.flatMap((r) => r.transitions.map((t) => t.to));
}

/** Credited, not removed value on the invoice. */
export function creditedTotal(invoice: Invoice): bigint {
  return invoice.payments.filter((p) => p.credited && !p.removed).reduce((sum, p) => sum + p.amount, 0n);
}
