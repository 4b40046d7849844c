/**
 * Property tests: random invoices fed random sequences of facts (payments with random amounts,
 * depths, RBF flags and timing; depth changes up and down; reorgs; removals with and without
 * replacements; clock facts with a clock that only moves forward; cancels; operator actions;
 * refunds and reverted refunds). After every step the invariants below must hold, and transition() must never throw:
 * a "forbidden transition" error means the derivation and the table disagree.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Fact, ObservedPayment } from '../../src/invoices/facts.ts';
import { totals } from '../../src/invoices/settlement-math.ts';
import { type TransitionResult, transition } from '../../src/invoices/transition.ts';
import { FROZEN_STATUSES, isAllowed, SETTLED_STATUSES } from '../../src/invoices/transition-table.ts';
import { INVOICE_STATUSES, type Invoice, type InvoiceStatus } from '../../src/invoices/types.ts';
import { buildInvoice, OPERATOR, OPTION_A, OPTION_B, T0 } from './builders.ts';

// ---------------------------------------------------------------------------------------------
// Commands: plain data, so fast-check can shrink them and print readable counterexamples.
// Amounts are given in thousandths of the amount due (or as an absolute number of base units);
// payment references are indexes into the invoice's payments at the time (one past the end means
// an unknown payment id).

type Amount = { permille: number } | { units: bigint };

interface NewPayment {
  amount: Amount;
  confirmations: number;
  rbf: boolean;
  /** Option index: 0 = A, 1 = B (B only exists on two-option invoices; else the fact is rejected). */
  option: 0 | 1;
  /** Seconds before `now` at which the chain first showed it; null means "now". */
  seenAgo: number | null;
  /** Reuse an existing payment's id (index), to exercise duplicate detection. */
  reuseId: number | null;
  /** Small pools so transactions and outputs collide now and then. */
  tx: number;
  output: number;
}

type Command =
  | { kind: 'seen'; payment: NewPayment }
  | { kind: 'confirmations'; ref: number; confirmations: number; blockChange: boolean }
  | { kind: 'reorged'; ref: number }
  | {
      kind: 'removed';
      ref: number;
      reason: 'replaced' | 'double_spent' | 'dropped';
      replacement: NewPayment | null;
      /** Replacement pays the other option instead of the replaced payment's own. */
      crossOption: boolean;
    }
  | { kind: 'expiry_due' }
  | { kind: 'window_closed' }
  | { kind: 'options_assigned' }
  | { kind: 'merchant_cancel' }
  | { kind: 'mark_paid' }
  | { kind: 'mark_failed' }
  | { kind: 'refund'; amount: Amount }
  /** A completed refund orphaned by a reorg: all of what is refunded, or part of it. */
  | { kind: 'revert'; share: 'all' | 'half' | 'one' };

interface Step {
  /** Seconds the clock advances before this fact. */
  advance: number;
  command: Command;
}

interface Scenario {
  amountDue: bigint;
  options: 1 | 2;
  requiredConfirmations: number;
  zeroConfAllowed: boolean;
  underpaymentToleranceBps: number;
  overpaymentToleranceBps: number;
  expirySeconds: number;
  monitoringWindowSeconds: number;
  created: boolean;
  steps: Step[];
}

const amountArb: fc.Arbitrary<Amount> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(250, 500, 994, 995, 996, 1000, 1004, 1005, 1006, 1500, 2000)
      .map((permille) => ({ permille })),
  },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 3000 }).map((permille) => ({ permille })) },
  { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: 1_000n }).map((units) => ({ units })) },
);

const newPaymentArb: fc.Arbitrary<NewPayment> = fc.record({
  amount: amountArb,
  confirmations: fc.oneof(fc.constantFrom(0, 0, 1, 2, 3), fc.integer({ min: 0, max: 10 })),
  rbf: fc.boolean(),
  option: fc.constantFrom<0 | 1>(0, 0, 0, 1),
  seenAgo: fc.option(fc.constantFrom(1, 60, 600, 3600, 90_000), { nil: null, freq: 3 }),
  reuseId: fc.option(fc.nat({ max: 6 }), { nil: null, freq: 8 }),
  tx: fc.nat({ max: 5 }),
  output: fc.nat({ max: 2 }),
});

const ref = fc.nat({ max: 6 });

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('seen' as const), payment: newPaymentArb }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('confirmations' as const),
      ref,
      confirmations: fc.integer({ min: 0, max: 8 }),
      blockChange: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reorged' as const), ref }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('removed' as const),
      ref,
      reason: fc.constantFrom('replaced' as const, 'double_spent' as const, 'dropped' as const),
      replacement: fc.option(newPaymentArb, { nil: null, freq: 2 }),
      crossOption: fc.constantFrom(false, false, false, false, true),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'expiry_due' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'window_closed' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'options_assigned' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'merchant_cancel' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'mark_paid' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'mark_failed' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('refund' as const), amount: amountArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('revert' as const),
      share: fc.constantFrom('all' as const, 'half' as const, 'one' as const),
    }),
  },
);

const stepArb: fc.Arbitrary<Step> = fc.record({
  // Mostly small steps so payments interleave before expiry; now and then a jump past expiry or the window.
  advance: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(0, 1, 10, 30, 60, 120) },
    { weight: 2, arbitrary: fc.constantFrom(300, 900, 3600, 86_400) },
    { weight: 1, arbitrary: fc.nat({ max: 200_000 }) },
  ),
  command: commandArb,
});

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  amountDue: fc.oneof(
    fc.constantFrom(1n, 7n, 1_000n, 100_000n, 10n ** 18n),
    fc.bigInt({ min: 1n, max: 10n ** 12n }),
  ),
  options: fc.constantFrom<1 | 2>(1, 2),
  requiredConfirmations: fc.integer({ min: 0, max: 6 }),
  zeroConfAllowed: fc.boolean(),
  underpaymentToleranceBps: fc.constantFrom(0, 50, 100, 1_000, 10_000),
  overpaymentToleranceBps: fc.constantFrom(0, 50, 100, 1_000, 10_000),
  expirySeconds: fc.constantFrom(0, 60, 900, 3600),
  monitoringWindowSeconds: fc.constantFrom(0, 60, 3600, 86_400),
  created: fc.boolean(),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 30 }),
});

// ---------------------------------------------------------------------------------------------
// Turning commands into facts against the current invoice.

let factCounter = 0;
const factId = () => `fact_${++factCounter}`;

function units(amount: Amount, due: bigint): bigint {
  if ('units' in amount) return amount.units;
  const value = (due * BigInt(amount.permille)) / 1000n;
  return value > 0n ? value : 1n;
}

function paymentIdAt(invoice: Invoice, index: number): string {
  return invoice.payments[index % (invoice.payments.length + 1)]?.id ?? 'pay_unknown';
}

function observedFrom(
  p: NewPayment,
  invoice: Invoice,
  now: Date,
  optionId: string,
  fresh: string,
): ObservedPayment {
  const due = invoice.options[0]?.amountDue ?? 1n;
  const out: ObservedPayment = {
    paymentId: p.reuseId !== null && invoice.payments.length > 0 ? paymentIdAt(invoice, p.reuseId) : fresh,
    optionId,
    txid: `tx_${p.tx}`,
    outputIndex: p.output,
    amount: units(p.amount, due),
    rbf: p.rbf,
    confirmations: p.confirmations,
    blockHash: p.confirmations > 0 ? `blk_${p.confirmations}` : null,
    blockHeight: p.confirmations > 0 ? 100 : null,
  };
  if (p.seenAgo !== null) out.seenAt = new Date(now.getTime() - p.seenAgo * 1000);
  return out;
}

function toFact(
  command: Command,
  invoice: Invoice,
  now: Date,
  fresh: () => string,
  refundedFrom: InvoiceStatus,
): Fact {
  const due = invoice.options[0]?.amountDue ?? 1n;
  switch (command.kind) {
    case 'seen':
      return {
        kind: 'payment_seen',
        id: factId(),
        payment: observedFrom(
          command.payment,
          invoice,
          now,
          command.payment.option === 0 ? OPTION_A : OPTION_B,
          fresh(),
        ),
      };
    case 'confirmations': {
      const paymentId = paymentIdAt(invoice, command.ref);
      const current = invoice.payments.find((p) => p.id === paymentId);
      const hash =
        command.confirmations === 0
          ? null
          : command.blockChange
            ? `blk_${factCounter}`
            : (current?.blockHash ?? 'blk_x');
      return {
        kind: 'payment_confirmations',
        id: factId(),
        paymentId,
        confirmations: command.confirmations,
        blockHash: hash,
        blockHeight: hash ? 100 : null,
      };
    }
    case 'reorged':
      return { kind: 'payment_reorged', id: factId(), paymentId: paymentIdAt(invoice, command.ref) };
    case 'removed': {
      const paymentId = paymentIdAt(invoice, command.ref);
      const fact: Fact = { kind: 'payment_removed', id: factId(), paymentId, reason: command.reason };
      if (command.replacement) {
        const replacedOption = invoice.payments.find((p) => p.id === paymentId)?.optionId ?? OPTION_A;
        const optionId = command.crossOption
          ? replacedOption === OPTION_A
            ? OPTION_B
            : OPTION_A
          : replacedOption;
        fact.replacement = observedFrom(command.replacement, invoice, now, optionId, fresh());
      }
      return fact;
    }
    case 'expiry_due':
    case 'window_closed':
    case 'options_assigned':
      return { kind: command.kind, id: factId() };
    case 'merchant_cancel':
      return { kind: 'merchant_cancel', id: factId(), actor: { kind: 'api_key', id: 'key_prop' } };
    case 'mark_paid':
      return { kind: 'mark_paid', id: factId(), actor: OPERATOR, reason: 'property test' };
    case 'mark_failed':
      return { kind: 'mark_failed', id: factId(), actor: OPERATOR, reason: 'property test' };
    case 'refund':
      return {
        kind: 'refund_completed',
        id: factId(),
        refundId: 'ref_prop',
        amount: units(command.amount, due),
        actor: OPERATOR,
      };
    case 'revert': {
      const r = invoice.refundedAmount;
      const amount = command.share === 'all' ? r : command.share === 'half' ? r / 2n : 1n;
      return {
        kind: 'refund_reverted',
        id: factId(),
        refundId: 'ref_prop',
        amount,
        refundedFrom,
        actor: OPERATOR,
      };
    }
  }
}

function startInvoice(s: Scenario): Invoice {
  return buildInvoice({
    status: s.created ? 'created' : 'awaiting_payment',
    amountDue: s.amountDue,
    options: s.options,
    requiredConfirmations: s.requiredConfirmations,
    zeroConfAllowed: s.zeroConfAllowed,
    underpaymentToleranceBps: s.underpaymentToleranceBps,
    overpaymentToleranceBps: s.overpaymentToleranceBps,
    expiresAt: new Date(T0.getTime() + s.expirySeconds * 1000),
    monitoringWindowSeconds: s.monitoringWindowSeconds,
  });
}

// ---------------------------------------------------------------------------------------------
// The invariants.

function counted(invoice: Invoice) {
  return invoice.payments.filter((p) => p.credited && !p.removed);
}

/** Cheaper than expect() in the hot loop; fast-check reports the message with the counterexample. */
function must(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

/** A deep, order-stable fingerprint of an invoice (bigints and dates included) for the purity check. */
function fingerprint(invoice: Invoice): string {
  return JSON.stringify(invoice, (_key, value) => (typeof value === 'bigint' ? `${value}n` : value));
}

function checkStep(before: Invoice, beforePrint: string, fact: Fact, result: TransitionResult): void {
  const after = result.invoice;
  const where = `${fact.kind} (${fact.id})`;

  // Purity: the input invoice is never mutated.
  must(fingerprint(before) === beforePrint, `${where}: input invoice mutated`);

  // A rejected fact changes nothing.
  if (result.rejected !== null) {
    must(after === before, `${where}: rejected but returned a different invoice`);
    must(
      result.transitions.length + result.events.length + result.exceptions.length === 0,
      `${where}: rejected but recorded something`,
    );
    return;
  }

  // Status is one of the known statuses; every recorded transition is allowed, caused by this fact,
  // chained from the previous status to the new one, and announced by an invoice.<to> event.
  must(INVOICE_STATUSES.includes(after.status), `${where}: unknown status ${after.status}`);
  let status = before.status;
  for (const t of result.transitions) {
    must(t.from === status, `${where}: transition from ${t.from}, invoice was ${status}`);
    must(isAllowed(t.from, t.to, t.causeKind), `${where}: forbidden ${t.from} → ${t.to} on ${t.causeKind}`);
    must(t.causeId === fact.id && t.causeKind === fact.kind, `${where}: transition cause is not the fact`);
    status = t.to;
  }
  must(after.status === status, `${where}: status ${after.status} changed without a transition`);
  must(result.transitions.length <= 1, `${where}: more than one transition`);
  const statusEvents = result.events.filter((e) => e.type.startsWith('invoice.')).map((e) => e.type);
  must(
    statusEvents.join() === result.transitions.map((t) => `invoice.${t.to}`).join(),
    `${where}: invoice events ${statusEvents} do not match transitions`,
  );

  // Event sequence numbers continue from the invoice's and strictly increase by one.
  for (const [i, e] of result.events.entries()) {
    must(e.sequence === before.sequence + i + 1, `${where}: event ${e.type} has sequence ${e.sequence}`);
  }
  must(after.sequence === before.sequence + result.events.length, `${where}: invoice sequence out of step`);
  // Every exception is announced.
  must(
    result.events.filter((e) => e.type === 'exception.opened').length === result.exceptions.length,
    `${where}: exceptions without exception.opened events`,
  );

  // No payment is recorded or credited twice.
  const ids = after.payments.map((p) => p.id);
  must(new Set(ids).size === ids.length, `${where}: payment id recorded twice: ${ids}`);
  const outputs = counted(after).map((p) => `${p.txid}:${p.outputIndex}`);
  must(new Set(outputs).size === outputs.length, `${where}: output credited twice: ${outputs}`);
  // Credited value all belongs to the one selected option.
  for (const p of counted(after)) {
    must(
      p.optionId === after.selectedOptionId,
      `${where}: ${p.id} credited to ${p.optionId}, selected ${after.selectedOptionId}`,
    );
  }

  // Payments are only ever added; a removed payment stays removed and never counts, unless a block
  // shows it mined after all (the replaced transaction won the race): then it is restored.
  must(after.payments.length >= before.payments.length, `${where}: payment dropped`);
  const minedAfterAll = (id: string) =>
    fact.kind === 'payment_confirmations' &&
    fact.paymentId === id &&
    fact.confirmations >= 1 &&
    fact.blockHash !== null;
  for (const [i, p] of before.payments.entries()) {
    const later = after.payments[i];
    must(later?.id === p.id, `${where}: payments reordered`);
    if (p.removed && !minedAfterAll(p.id)) must(later?.removed === true, `${where}: ${p.id} un-removed`);
    if (p.removed && later?.removed === false) {
      must(
        result.events.some((e) => e.type === 'payment.restored'),
        `${where}: restored silently`,
      );
    }
  }
  // payment.confirmed (decision 0021): exactly for the payments this fact took to their option's
  // depth from below it (new, restored, or deeper), never for misdirected or removed money.
  const atDepth = (invoice: Invoice, p: Invoice['payments'][number] | undefined) => {
    const option = invoice.options.find((o) => o.id === p?.optionId);
    return !!p && !p.removed && !p.received && !!option && p.confirmations >= option.requiredConfirmations;
  };
  for (const p of after.payments) {
    const reached =
      !atDepth(
        before,
        before.payments.find((b) => b.id === p.id),
      ) && atDepth(after, p);
    const announced = result.events.filter(
      (e) => e.type === 'payment.confirmed' && e.paymentId === p.id,
    ).length;
    must(
      announced === (reached ? 1 : 0),
      `${where}: ${p.id} payment.confirmed ${announced}, reached ${reached}`,
    );
  }

  const t = totals(after);
  const countedSum = counted(after).reduce((sum, p) => sum + p.amount, 0n);
  must(t.seen === countedSum, `${where}: credited total ${t.seen} != ${countedSum}`);
  must(
    t.credited.every((p) => !p.removed),
    `${where}: removed payment counted`,
  );

  // Settled statuses are backed by settled value (or an operator's mark_paid).
  if (SETTLED_STATUSES.has(after.status) && !after.manuallyPaid) {
    must(
      t.settled > 0n && t.settled >= t.minimum,
      `${where}: ${after.status} with settled ${t.settled} < ${t.minimum}`,
    );
  }

  // Frozen statuses only move by refunds and reverted refunds; only a revert shrinks the refunded amount.
  if (FROZEN_STATUSES.has(before.status)) {
    for (const tr of result.transitions) {
      must(
        tr.causeKind === 'refund_completed' || tr.causeKind === 'refund_reverted',
        `${where}: frozen ${before.status} moved by ${tr.causeKind}`,
      );
    }
  }
  if (fact.kind !== 'refund_reverted')
    must(after.refundedAmount >= before.refundedAmount, `${where}: refunded amount shrank`);
  else if (!result.rejected) {
    must(after.refundedAmount === before.refundedAmount - fact.amount, `${where}: reverted the wrong amount`);
    must(after.refundedAmount >= 0n, `${where}: refunded amount below zero`);
    // Whatever remains refunded keeps the invoice in a refund status; nothing left leaves them.
    const refundStatus = after.status === 'partially_refunded' || after.status === 'refunded';
    must(
      refundStatus === after.refundedAmount > 0n,
      `${where}: ${after.status} with ${after.refundedAmount} refunded`,
    );
  }
}

function play(
  s: Scenario,
  each?: (before: Invoice, fact: Fact, now: Date, result: TransitionResult) => void,
): void {
  let invoice = startInvoice(s);
  let clock = T0.getTime();
  let paymentCounter = 0;
  const fresh = () => `pay_${++paymentCounter}`;
  // The status the first refund left, as storage reads it from the transitions for a revert.
  let refundedFrom: InvoiceStatus = 'paid';
  let refundedYet = false;
  for (const step of s.steps) {
    clock += step.advance * 1000;
    const now = new Date(clock);
    const fact = toFact(step.command, invoice, now, fresh, refundedFrom);
    const beforePrint = fingerprint(invoice);
    const result = transition(invoice, fact, now);
    checkStep(invoice, beforePrint, fact, result);
    each?.(invoice, fact, now, result);
    const first = result.transitions.find((t) => t.causeKind === 'refund_completed');
    if (first && !refundedYet) {
      refundedFrom = first.from;
      refundedYet = true;
    }
    invoice = result.invoice;
  }
}

const NUM_RUNS = 3_000;

describe('transition() over random fact sequences', () => {
  it('never throws and keeps every invariant after every step', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => play(s)),
      { numRuns: NUM_RUNS },
    );
  });

  it('its generator reaches every status, most allowed moves and reverted refunds', () => {
    // A fixed sample, so that this check of the generator's reach is the same on every run: with a
    // fresh seed each time, a run now and then reached no reverted refund at all and failed. The
    // test above explores new sequences on every run.
    const reached = new Set<string>();
    const causes = new Set<string>();
    const reverts = new Set<string>();
    for (const s of fc.sample(scenarioArb, { numRuns: NUM_RUNS, seed: 20261122 })) {
      play(s, (_before, _fact, _now, result) => {
        reached.add(result.invoice.status);
        for (const t of result.transitions) causes.add(`${t.from} → ${t.to}`);
        for (const t of result.transitions)
          if (t.causeKind === 'refund_reverted') reverts.add(`${t.from} → ${t.to}`);
      });
    }
    // The generator reaches every status and most allowed pairs, so the invariants are exercised everywhere.
    expect([...reached].sort()).toEqual([...INVOICE_STATUSES].sort());
    // Random runs reach many of the 102 allowed pairs (the reverts' targets less often); the table test covers every pair by construction.
    expect(causes.size).toBeGreaterThan(50);
    // Reverted refunds are exercised too (the table test covers each target by construction).
    expect(reverts.size).toBeGreaterThan(0);
  });

  it('re-applying a fact changes nothing (refunds and window_closed aside, see scenarios.test.ts)', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        play(s, (_before, fact, now, first) => {
          if (fact.kind === 'refund_completed' || fact.kind === 'refund_reverted') return;
          const again = transition(first.invoice, fact, now);
          const where = `${fact.kind} (${fact.id}) applied twice`;
          must(again.transitions.length === 0, `${where}: recorded a transition`);
          // window_closed on an underpaid invoice re-opens the underpayment exception (and so bumps the
          // event sequence): the pure function keeps no record of applied facts, storage dedupes by fact id.
          const comparable = (inv: Invoice) =>
            fingerprint(fact.kind === 'window_closed' ? { ...inv, sequence: 0 } : inv);
          must(comparable(again.invoice) === comparable(first.invoice), `${where}: changed the invoice`);
          if (fact.kind === 'window_closed') {
            must(
              again.exceptions.every((e) => e.kind === 'underpayment'),
              `${where}: opened an exception`,
            );
            return;
          }
          must(
            again.events.length === 0 && again.exceptions.length === 0,
            `${where}: emitted ${again.events.map((e) => e.type)}`,
          );
          if (fact.kind !== 'expiry_due') must(again.rejected !== null, `${where}: not rejected`);
        });
      }),
      { numRuns: NUM_RUNS / 2 },
    );
  });
});
