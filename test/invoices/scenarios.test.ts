/**
 * SCENARIOS.md cases 1–13 at the state-machine level, plus idempotency, cancellation, operator
 * actions and refunds. Chain behaviour (real nodes) is tested elsewhere; here the adapters' facts
 * are written by hand.
 */
import { describe, expect, it } from 'vitest';
import type { Fact } from '../../src/invoices/facts.ts';
import { DEFAULT_POLICY, mergePolicy, requiredConfirmations } from '../../src/invoices/policy.ts';
import { totals } from '../../src/invoices/settlement-math.ts';
import { type TransitionResult, transition } from '../../src/invoices/transition.ts';
import type { Invoice, InvoiceStatus } from '../../src/invoices/types.ts';
import {
  AFTER_WINDOW,
  API_KEY,
  at,
  buildInvoice,
  confirmations,
  creditedTotal,
  DEFAULT_DUE,
  drive,
  EXPIRY_SECONDS,
  eventTypes,
  expiryDue,
  LATE,
  markFailed,
  markPaid,
  merchantCancel,
  OPERATOR,
  OPTION_B,
  observed,
  optionsAssigned,
  paymentSeen,
  refund,
  removed,
  reorged,
  run,
  type Step,
  statusPath,
  WINDOW_SECONDS,
  windowClosed,
} from './builders.ts';

const due = DEFAULT_DUE;
const half = DEFAULT_DUE / 2n;

function invoiceEvents(results: readonly TransitionResult[]): string[] {
  return results.flatMap((r) => eventTypes(r)).filter((t) => t.startsWith('invoice.'));
}

function exceptionKinds(results: readonly TransitionResult[]): string[] {
  return results.flatMap((r) => r.exceptions.map((e) => e.kind));
}

function expectNoRejections(results: readonly TransitionResult[]): void {
  expect(results.map((r) => r.rejected)).toEqual(results.map(() => null));
}

describe('1. exact payment, confirmed to policy', () => {
  it('goes detected → confirming → paid with one invoice event each', () => {
    const seen = paymentSeen({ paymentId: 'p1', amount: due });
    const { invoice, results } = run(buildInvoice({ requiredConfirmations: 2 }), [
      [seen, at(60)],
      [confirmations('p1', 1), at(600)],
      [confirmations('p1', 2), at(1200)],
    ]);
    expectNoRejections(results);
    expect(statusPath(results)).toEqual(['detected', 'confirming', 'paid']);
    expect(invoiceEvents(results)).toEqual(['invoice.detected', 'invoice.confirming', 'invoice.paid']);
    expect(results.map(eventTypes)).toEqual([
      ['payment.detected', 'invoice.detected'],
      ['invoice.confirming'],
      ['payment.confirmed', 'invoice.paid'],
    ]);
    expect(exceptionKinds(results)).toEqual([]);
    expect(invoice.status).toBe('paid');
    expect(invoice.selectedOptionId).toBe('opt_btc');
    expect(invoice.payments).toMatchObject([{ id: 'p1', amount: due, confirmations: 2, credited: true }]);
    // Sequence numbers run 1..n across the whole life of the invoice.
    expect(results.flatMap((r) => r.events.map((e) => e.sequence))).toEqual([1, 2, 3, 4, 5]);
    expect(invoice.sequence).toBe(5);
  });

  it('paying after the expiry job ran is still paid when the payment was seen on time', () => {
    // The confirmation arrives after expiry; the payment was in the mempool before it.
    const { invoice, results } = run(buildInvoice(), [
      [paymentSeen({ paymentId: 'p1', amount: due }), at(60)],
      [expiryDue(), LATE],
      [confirmations('p1', 2), LATE],
    ]);
    expectNoRejections(results);
    expect(statusPath(results)).toEqual(['detected', 'paid']);
    expect(invoice.payments[0]?.timing).toBe('on_time');
  });
});

describe('2. underpayment inside the tolerance', () => {
  const spec = { underpaymentToleranceBps: 50 }; // 0.5 %: minimum 99_500 of 100_000

  it('is paid, and the shortfall stays visible on the invoice', () => {
    const { invoice, results } = run(buildInvoice(spec), [
      [paymentSeen({ paymentId: 'p1', amount: 99_700n, confirmations: 2 }), at(60)],
    ]);
    expect(statusPath(results)).toEqual(['paid']);
    expect(exceptionKinds(results)).toEqual([]);
    const t = totals(invoice);
    expect(t.settled).toBe(99_700n);
    expect(invoice.options[0]?.amountDue).toBe(due);
    expect((invoice.options[0]?.amountDue ?? 0n) - t.settled).toBe(300n);
    expect(invoice.payments[0]).toMatchObject({ amount: 99_700n, credited: true });
  });

  it('is exact at the boundary: the minimum pays, one unit less is underpaid', () => {
    const atMinimum = transition(
      buildInvoice(spec),
      paymentSeen({ amount: 99_500n, confirmations: 2 }),
      at(60),
    );
    expect(atMinimum.invoice.status).toBe('paid');
    const below = transition(buildInvoice(spec), paymentSeen({ amount: 99_499n, confirmations: 2 }), at(60));
    expect(below.invoice.status).toBe('underpaid');
  });
});

describe('3. material underpayment, then a top-up', () => {
  const underpaidSteps: Step[] = [
    [paymentSeen({ paymentId: 'p1', amount: 60_000n, confirmations: 2 }), at(60)],
  ];

  it('is underpaid, and a top-up before expiry makes it paid', () => {
    const { invoice, results } = run(buildInvoice(), [
      ...underpaidSteps,
      [paymentSeen({ paymentId: 'p2', amount: 40_000n }), at(300)],
      [confirmations('p2', 2), at(900 - 1)],
    ]);
    expectNoRejections(results);
    expect(statusPath(results)).toEqual(['underpaid', 'confirming', 'paid']);
    expect(invoice.payments.map((p) => [p.id, p.amount, p.credited])).toEqual([
      ['p1', 60_000n, true],
      ['p2', 40_000n, true],
    ]);
    expect(exceptionKinds(results)).toEqual([]);
  });

  it('a top-up after expiry but inside the window completes it as late_paid, with a late-payment exception', () => {
    const { invoice, results } = run(buildInvoice(), [
      ...underpaidSteps,
      [expiryDue(), LATE],
      [paymentSeen({ paymentId: 'p2', amount: 40_000n, confirmations: 2 }), LATE],
    ]);
    expectNoRejections(results);
    // Expiry does not move an underpaid invoice: its on-time money is already recorded.
    expect(statusPath(results)).toEqual(['underpaid', 'late_paid']);
    expect(exceptionKinds(results)).toEqual(['late_payment']);
    expect(invoice.status).toBe('late_paid');
  });

  it('when the window closes still underpaid, an underpayment exception opens and the status stays', () => {
    const closes = at(EXPIRY_SECONDS + WINDOW_SECONDS);
    const { invoice, results } = run(buildInvoice(), [
      ...underpaidSteps,
      [expiryDue(), LATE],
      [windowClosed(), closes],
    ]);
    expectNoRejections(results);
    expect(invoice.status).toBe('underpaid');
    expect(results.at(-1)?.exceptions).toEqual([
      {
        kind: 'underpayment',
        paymentId: null,
        evidence: {
          paid: '0.0006',
          paid_base_units: '60000',
          due: '0.001',
          due_base_units: '100000',
          asset: 'BTC',
        },
      },
    ]);
    expect(eventTypes(results.at(-1) ?? { events: [] })).toEqual(['exception.opened']);
  });

  it('window_closed before the window really closes is rejected', () => {
    const underpaid = drive(buildInvoice(), underpaidSteps);
    expect(transition(underpaid, windowClosed(), at(60)).rejected).toBe('not yet expired');
    expect(transition(underpaid, windowClosed(), LATE).rejected).toBe('window still open');
  });
});

describe('4. two partial payments that add up', () => {
  it('is paid, with both payments listed and credited', () => {
    const { invoice, results } = run(buildInvoice(), [
      [paymentSeen({ paymentId: 'p1', amount: 30_000n }), at(60)],
      [paymentSeen({ paymentId: 'p2', amount: 70_000n }), at(120)],
      [confirmations('p1', 2), at(700)],
      [confirmations('p2', 2), at(800)],
    ]);
    expectNoRejections(results);
    expect(statusPath(results)).toEqual(['detected', 'confirming', 'paid']);
    expect(results.map((r) => r.invoice.status)).toEqual(['detected', 'detected', 'confirming', 'paid']);
    expect(invoice.payments.map((p) => [p.id, p.amount, p.credited])).toEqual([
      ['p1', 30_000n, true],
      ['p2', 70_000n, true],
    ]);
    expect(creditedTotal(invoice)).toBe(due);
  });
});

describe('5. overpayment', () => {
  it('is overpaid (fulfillable) with an overpayment exception for the excess', () => {
    const { invoice, results } = run(buildInvoice(), [
      [paymentSeen({ paymentId: 'p1', amount: 150_000n, confirmations: 2 }), at(60)],
    ]);
    expect(invoice.status).toBe('overpaid');
    expect(results[0]?.exceptions).toEqual([
      {
        kind: 'overpayment',
        paymentId: null,
        evidence: {
          excess: '0.0005',
          excess_base_units: '50000',
          due: '0.001',
          due_base_units: '100000',
          asset: 'BTC',
        },
      },
    ]);
    expect(eventTypes(results[0] ?? { events: [] })).toEqual([
      'payment.detected',
      // Seen at its required depth: confirmed at once, as one mined block by block would be.
      'payment.confirmed',
      'exception.opened',
      'invoice.overpaid',
    ]);
  });

  it('within the overpayment tolerance it is simply paid', () => {
    const result = transition(
      buildInvoice({ overpaymentToleranceBps: 100 }),
      paymentSeen({ amount: 101_000n, confirmations: 2 }),
      at(60),
    );
    expect(result.invoice.status).toBe('paid');
    expect(result.exceptions).toEqual([]);
    const over = transition(
      buildInvoice({ overpaymentToleranceBps: 100 }),
      paymentSeen({ amount: 101_001n, confirmations: 2 }),
      at(60),
    );
    expect(over.invoice.status).toBe('overpaid');
  });
});

describe('6. payment after expiry inside the monitoring window', () => {
  it('is late_paid with a late-payment exception, never paid', () => {
    const { invoice, results } = run(buildInvoice(), [
      [expiryDue(), LATE],
      [paymentSeen({ paymentId: 'p1', amount: due }), at(EXPIRY_SECONDS + 120)],
      [confirmations('p1', 2), at(EXPIRY_SECONDS + 1800)],
    ]);
    expectNoRejections(results);
    expect(statusPath(results)).toEqual(['expired', 'late_paid']);
    expect(statusPath(results)).not.toContain('paid');
    // While the late payment is unconfirmed the invoice stays expired; the exception says money is in flight.
    expect(results[1]?.invoice.status).toBe('expired');
    expect(results[1]?.exceptions).toMatchObject([
      { kind: 'late_payment', paymentId: 'p1', evidence: { expires_at: at(EXPIRY_SECONDS).toISOString() } },
    ]);
    expect(invoice.payments[0]).toMatchObject({ timing: 'late', credited: true });
  });

  it('is late even when the expiry job has not run yet', () => {
    const result = transition(buildInvoice(), paymentSeen({ amount: due, confirmations: 2 }), LATE);
    expect(result.invoice.status).toBe('late_paid');
    expect(result.exceptions.map((e) => e.kind)).toEqual(['late_payment']);
  });
});

describe('7. payment after the monitoring window', () => {
  it('opens an unmatched-deposit exception; the payment is recorded but not credited; status unchanged', () => {
    const expired = drive(buildInvoice(), [
      [expiryDue(), LATE],
      [windowClosed(), AFTER_WINDOW],
    ]);
    const result = transition(
      expired,
      paymentSeen({ paymentId: 'p1', amount: due, confirmations: 6 }),
      AFTER_WINDOW,
    );
    expect(result.rejected).toBeNull();
    expect(result.invoice.status).toBe('expired');
    expect(result.transitions).toEqual([]);
    expect(result.exceptions).toMatchObject([
      {
        kind: 'unmatched_deposit',
        paymentId: 'p1',
        evidence: { timing: 'after_window', amount: '0.001', amount_base_units: '100000', asset: 'BTC' },
      },
    ]);
    expect(result.invoice.payments).toMatchObject([{ id: 'p1', credited: false, timing: 'after_window' }]);
    // Real money at its depth: confirmed like any payment, but credited to nothing.
    expect(eventTypes(result)).toEqual(['payment.detected', 'payment.confirmed', 'exception.opened']);
  });

  it('never credits it even when the clock facts have not run: the invoice just expires', () => {
    const result = transition(buildInvoice(), paymentSeen({ amount: due, confirmations: 6 }), AFTER_WINDOW);
    expect(result.invoice.status).toBe('expired');
    expect(result.exceptions.map((e) => e.kind)).toEqual(['unmatched_deposit']);
    expect(creditedTotal(result.invoice)).toBe(0n);
  });
});

describe('8. exchange batch withdrawal paying three invoices', () => {
  it('credits each invoice with exactly its own output', () => {
    const txid = 'tx_batch';
    const amounts = [100_000n, 250_000n, 40_000n];
    const invoices = amounts.map((amountDue, i) => buildInvoice({ id: `inv_${i}`, amountDue }));
    // Outputs 0..2 pay the three invoices, output 3 is the exchange's change (matched to nothing).
    const results = invoices.map((inv, i) =>
      transition(
        inv,
        paymentSeen({
          paymentId: `pay_${i}`,
          txid,
          outputIndex: i,
          amount: amounts[i] ?? 0n,
          confirmations: 2,
        }),
        at(60),
      ),
    );
    for (const [i, result] of results.entries()) {
      expect(result.invoice.status).toBe('paid');
      expect(result.invoice.payments).toHaveLength(1);
      expect(result.invoice.payments[0]).toMatchObject({
        txid,
        outputIndex: i,
        amount: amounts[i],
        credited: true,
      });
      expect(creditedTotal(result.invoice)).toBe(amounts[i]);
    }
  });

  it('two outputs of one transaction to the same invoice are two payments; the same output twice is one', () => {
    const inv = drive(buildInvoice(), [
      [
        paymentSeen({ paymentId: 'p0', txid: 'tx_b', outputIndex: 0, amount: half, confirmations: 2 }),
        at(60),
      ],
    ]);
    const second = transition(
      inv,
      paymentSeen({ paymentId: 'p1', txid: 'tx_b', outputIndex: 1, amount: half, confirmations: 2 }),
      at(61),
    );
    expect(second.invoice.status).toBe('paid');
    expect(creditedTotal(second.invoice)).toBe(due);
    const again = transition(
      second.invoice,
      paymentSeen({ paymentId: 'p_other_id', txid: 'tx_b', outputIndex: 1, amount: half, confirmations: 2 }),
      at(62),
    );
    expect(again.rejected).toBe('payment already recorded');
    expect(again.invoice).toBe(second.invoice);
  });
});

describe('9. the same invoice paid twice in full', () => {
  it('stays paid with a duplicate-payment exception; the second payment is not credited', () => {
    const { invoice, results } = run(buildInvoice(), [
      [paymentSeen({ paymentId: 'p1', amount: due, confirmations: 2 }), at(60)],
      [paymentSeen({ paymentId: 'p2', amount: due, confirmations: 1 }), at(300)],
      [confirmations('p2', 3), at(900)],
    ]);
    expectNoRejections(results);
    expect(statusPath(results)).toEqual(['paid']);
    expect(results[1]?.exceptions).toMatchObject([{ kind: 'duplicate_payment', paymentId: 'p2' }]);
    expect(invoice.payments.map((p) => [p.id, p.credited])).toEqual([
      ['p1', true],
      ['p2', false],
    ]);
    expect(creditedTotal(invoice)).toBe(due);
  });

  it('a smaller extra payment after settlement is an overpayment exception instead', () => {
    const paid = drive(buildInvoice(), [[paymentSeen({ amount: due, confirmations: 2 }), at(60)]]);
    const result = transition(paid, paymentSeen({ amount: 5_000n }), at(120));
    expect(result.invoice.status).toBe('paid');
    expect(result.exceptions.map((e) => e.kind)).toEqual(['overpayment']);
  });

  it('two full payments both in the mempool before either settles: overpaid, with an overpayment exception', () => {
    const { results } = run(buildInvoice(), [
      [paymentSeen({ paymentId: 'p1', amount: due }), at(60)],
      [paymentSeen({ paymentId: 'p2', amount: due }), at(61)],
      [confirmations('p1', 2), at(600)],
      [confirmations('p2', 2), at(601)],
    ]);
    expectNoRejections(results);
    expect(statusPath(results)).toEqual(['detected', 'paid', 'overpaid']);
    expect(exceptionKinds(results)).toEqual(['overpayment']);
  });
});

describe('10. RBF replacement', () => {
  const detected = () =>
    drive(buildInvoice(), [[paymentSeen({ paymentId: 'p1', amount: due, rbf: true }), at(60)]]);

  it('replaced by a transaction that still pays: the payment follows the replacement', () => {
    const replacement = observed({ paymentId: 'p2', amount: due, rbf: false });
    const { invoice, results } = run(detected(), [
      [removed('p1', replacement), at(120)],
      [confirmations('p2', 2), at(700)],
    ]);
    expectNoRejections(results);
    expect(eventTypes(results[0] ?? { events: [] })).toEqual(['payment.replaced', 'payment.detected']);
    expect(results[0]?.transitions).toEqual([]); // still detected
    expect(statusPath(results)).toEqual(['paid']);
    expect(invoice.payments).toMatchObject([
      { id: 'p1', removed: true, removedReason: 'replaced' },
      { id: 'p2', removed: false, credited: true, timing: 'on_time' },
    ]);
    expect(creditedTotal(invoice)).toBe(due);
  });

  it('the replacement keeps on-time timing even when it appears after expiry', () => {
    const { invoice } = run(detected(), [
      [removed('p1', observed({ paymentId: 'p2', amount: due, confirmations: 2 })), LATE],
    ]);
    expect(invoice.status).toBe('paid');
    expect(invoice.payments[1]?.timing).toBe('on_time');
  });

  it('replaced by one that no longer pays: back to awaiting_payment with an event, or expired after expiry', () => {
    const before = transition(detected(), removed('p1', undefined, 'replaced'), at(120));
    expect(before.invoice.status).toBe('awaiting_payment');
    expect(eventTypes(before)).toEqual(['payment.replaced', 'invoice.awaiting_payment']);
    expect(creditedTotal(before.invoice)).toBe(0n);

    const after = transition(detected(), removed('p1', undefined, 'replaced'), LATE);
    expect(after.invoice.status).toBe('expired');
    expect(eventTypes(after)).toEqual(['payment.replaced', 'invoice.expired']);
  });

  it('a replacement the adapter already reported as a payment is not recorded or credited twice', () => {
    // The watcher saw the replacement output first, then learned that p1 was replaced by it.
    const { invoice, results } = run(detected(), [
      [paymentSeen({ paymentId: 'p2', txid: 'tx_replacement', amount: due }), at(90)],
      [removed('p1', observed({ paymentId: 'p2', txid: 'tx_replacement', amount: due })), at(120)],
      [confirmations('p2', 2), at(700)],
    ]);
    expectNoRejections(results);
    expect(invoice.payments.map((p) => p.id)).toEqual(['p1', 'p2']);
    expect(creditedTotal(invoice)).toBe(due);
    expect(invoice.status).toBe('paid');
  });

  it('a replacement paying another option is classified as new money, not credited to this one', () => {
    const twoOptions = drive(buildInvoice({ options: 2 }), [
      [paymentSeen({ paymentId: 'p1', amount: due, rbf: true }), at(60)],
    ]);
    const crossOption = transition(
      twoOptions,
      removed('p1', observed({ paymentId: 'p2', optionId: OPTION_B, amount: due })),
      at(120),
    );
    expect(crossOption.invoice.payments[1]).toMatchObject({ id: 'p2', credited: false });
    expect(crossOption.exceptions.map((e) => e.kind)).toEqual(['other_option_payment']);
    expect(crossOption.invoice.status).toBe('awaiting_payment');
    expect(creditedTotal(crossOption.invoice)).toBe(0n);
  });
});

describe('11. reorg before the threshold', () => {
  it('recomputes confirmations and continues when re-mined', () => {
    const { invoice, results } = run(buildInvoice({ requiredConfirmations: 3 }), [
      [paymentSeen({ paymentId: 'p1', amount: due, confirmations: 1 }), at(60)],
      [confirmations('p1', 2), at(600)],
      [reorged('p1'), at(700)],
      [confirmations('p1', 1), at(800)],
      [confirmations('p1', 3), at(890)],
    ]);
    expectNoRejections(results);
    expect(statusPath(results)).toEqual(['confirming', 'detected', 'confirming', 'paid']);
    expect(eventTypes(results[2] ?? { events: [] })).toEqual(['payment.reorged', 'invoice.detected']);
    expect(results[2]?.invoice.payments[0]).toMatchObject({
      confirmations: 0,
      blockHash: null,
      blockHeight: null,
    });
    expect(exceptionKinds(results)).toEqual([]);
    expect(invoice.payments[0]?.confirmations).toBe(3);
  });
});

describe('12. reorg after paid', () => {
  const paid = () =>
    drive(buildInvoice(), [[paymentSeen({ paymentId: 'p1', amount: due, confirmations: 2 }), at(60)]]);

  it('a double-spend opens "reorg after paid", moves the status back and emits events', () => {
    const result = transition(paid(), removed('p1', undefined, 'double_spent'), at(300));
    expect(result.invoice.status).toBe('awaiting_payment');
    expect(result.transitions).toMatchObject([
      { from: 'paid', to: 'awaiting_payment', causeKind: 'payment_removed' },
    ]);
    expect(result.exceptions).toEqual([
      {
        kind: 'reorg_after_paid',
        paymentId: 'p1',
        evidence: { previous_status: 'paid', new_status: 'awaiting_payment', cause: 'payment_removed' },
      },
    ]);
    expect(eventTypes(result)).toEqual(['payment.replaced', 'exception.opened', 'invoice.awaiting_payment']);
    expect(creditedTotal(result.invoice)).toBe(0n);
  });

  it('after expiry the same double-spend leaves it expired', () => {
    const result = transition(paid(), removed('p1', undefined, 'double_spent'), LATE);
    expect(result.invoice.status).toBe('expired');
    expect(result.exceptions.map((e) => e.kind)).toEqual(['reorg_after_paid']);
  });

  it('a reorg that only unconfirms it moves it back to detected, and re-mining settles it again', () => {
    const { results } = run(paid(), [
      [reorged('p1'), at(300)],
      [confirmations('p1', 2), at(900)],
    ]);
    expect(statusPath(results)).toEqual(['detected', 'paid']);
    expect(exceptionKinds(results)).toEqual(['reorg_after_paid']);
  });
});

describe('13. zero-confirmation policy for small amounts', () => {
  const policy = mergePolicy(DEFAULT_POLICY, { zero_conf_max_value: '50.00', value_currency: 'USD' });
  const small = requiredConfirmations(policy, 'bitcoin', 4_000n, 'USD'); // $40
  const large = requiredConfirmations(policy, 'bitcoin', 10_000n, 'USD'); // $100

  it('the policy allows zero-conf only under the threshold', () => {
    expect(small.zeroConfAllowed).toBe(true);
    expect(large.zeroConfAllowed).toBe(false);
    expect(small.requiredConfirmations).toBe(3);
  });

  const invoiceFor = (decision: typeof small) =>
    buildInvoice({
      requiredConfirmations: decision.requiredConfirmations,
      zeroConfAllowed: decision.zeroConfAllowed,
    });

  it('a non-RBF payment below the threshold is paid from the mempool', () => {
    const result = transition(invoiceFor(small), paymentSeen({ amount: due, rbf: false }), at(60));
    expect(result.invoice.status).toBe('paid');
    expect(result.invoice.payments[0]?.confirmations).toBe(0);
  });

  it('an RBF payment below the threshold waits for blocks', () => {
    const { results } = run(invoiceFor(small), [
      [paymentSeen({ paymentId: 'p1', amount: due, rbf: true }), at(60)],
      [confirmations('p1', 1), at(600)],
      [confirmations('p1', 3), at(890)],
    ]);
    expect(statusPath(results)).toEqual(['detected', 'confirming', 'paid']);
  });

  it('a non-RBF payment above the threshold waits for blocks', () => {
    const { results } = run(invoiceFor(large), [
      [paymentSeen({ paymentId: 'p1', amount: due, rbf: false }), at(60)],
      [confirmations('p1', 3), at(890)],
    ]);
    expect(statusPath(results)).toEqual(['detected', 'paid']);
  });

  it('a zero-conf payment that is then double-spent opens "reorg after paid"', () => {
    const paid = drive(invoiceFor(small), [
      [paymentSeen({ paymentId: 'p1', amount: due, rbf: false }), at(60)],
    ]);
    const result = transition(paid, removed('p1', undefined, 'double_spent'), at(120));
    expect(result.invoice.status).toBe('awaiting_payment');
    expect(result.exceptions.map((e) => e.kind)).toEqual(['reorg_after_paid']);
  });
});

describe('applying the same fact twice changes nothing the second time', () => {
  type Case = { name: string; setup: Step[]; fact: Fact; now: Date; rejected: string | null };
  const seen = paymentSeen({ paymentId: 'p1', amount: due, confirmations: 1 });
  const withP1: Step[] = [[paymentSeen({ paymentId: 'p1', amount: due, confirmations: 1 }), at(60)]];
  const cases: Case[] = [
    {
      name: 'options_assigned',
      setup: [],
      fact: optionsAssigned(),
      now: at(1),
      rejected: 'options are already assigned',
    },
    { name: 'payment_seen', setup: [], fact: seen, now: at(60), rejected: 'payment already recorded' },
    {
      name: 'payment_confirmations',
      setup: withP1,
      fact: confirmations('p1', 2),
      now: at(120),
      rejected: 'no change',
    },
    { name: 'payment_reorged', setup: withP1, fact: reorged('p1'), now: at(120), rejected: 'no change' },
    {
      name: 'payment_removed',
      setup: withP1,
      fact: removed('p1', observed({ paymentId: 'p2', amount: due })),
      now: at(120),
      rejected: 'unknown or removed payment',
    },
    {
      name: 'merchant_cancel',
      setup: [],
      fact: merchantCancel(),
      now: at(60),
      rejected: 'cannot cancel an invoice that is cancelled',
    },
    {
      name: 'mark_paid',
      setup: withP1,
      fact: markPaid(),
      now: at(120),
      rejected: 'the invoice is paid; mark_paid is allowed from detected, confirming, underpaid, expired',
    },
    {
      name: 'mark_failed',
      setup: withP1,
      fact: markFailed(),
      now: at(120),
      rejected:
        'the invoice is failed; mark_failed is allowed from awaiting_payment, detected, confirming, underpaid, expired',
    },
    // Clock facts are no-ops the second time without a rejection: nothing to record.
    { name: 'expiry_due', setup: [], fact: expiryDue(), now: LATE, rejected: null },
    { name: 'window_closed', setup: [], fact: windowClosed(), now: AFTER_WINDOW, rejected: null },
  ];

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const start =
      c.name === 'options_assigned' ? buildInvoice({ status: 'created' }) : drive(buildInvoice(), c.setup);
    const first = transition(start, c.fact, c.now);
    expect(first.rejected).toBeNull();
    expect(first.events.length).toBeGreaterThan(0);
    const second = transition(first.invoice, c.fact, c.now);
    expect(second.rejected).toBe(c.rejected);
    expect(second.transitions).toEqual([]);
    expect(second.events).toEqual([]);
    expect(second.exceptions).toEqual([]);
    expect(second.invoice).toEqual(first.invoice);
  });

  it('a refund is not idempotent by itself: each refund fact adds (storage must dedupe by fact id)', () => {
    const paid = drive(buildInvoice(), [[paymentSeen({ amount: due, confirmations: 2 }), at(60)]]);
    const fact = refund(30_000n);
    const first = transition(paid, fact, at(120));
    const second = transition(first.invoice, fact, at(120));
    expect(second.invoice.refundedAmount).toBe(60_000n);
    expect(second.transitions).toEqual([]);
  });

  it('window_closed re-applied to an underpaid invoice opens the underpayment exception again (storage must dedupe)', () => {
    const underpaid = drive(buildInvoice(), [[paymentSeen({ amount: half, confirmations: 2 }), at(60)]]);
    const fact = windowClosed();
    const first = transition(underpaid, fact, AFTER_WINDOW);
    const second = transition(first.invoice, fact, AFTER_WINDOW);
    expect(first.exceptions.map((e) => e.kind)).toEqual(['underpayment']);
    expect(second.exceptions.map((e) => e.kind)).toEqual(['underpayment']);
    expect(second.transitions).toEqual([]);
  });
});

describe('merchant cancel', () => {
  const starts: Array<[InvoiceStatus, () => Invoice]> = [
    ['detected', () => drive(buildInvoice(), [[paymentSeen({ amount: due }), at(60)]])],
    ['confirming', () => drive(buildInvoice(), [[paymentSeen({ amount: due, confirmations: 1 }), at(60)]])],
    ['underpaid', () => drive(buildInvoice(), [[paymentSeen({ amount: half, confirmations: 2 }), at(60)]])],
    ['paid', () => drive(buildInvoice(), [[paymentSeen({ amount: due, confirmations: 2 }), at(60)]])],
    [
      'overpaid',
      () => drive(buildInvoice(), [[paymentSeen({ amount: 2n * due, confirmations: 2 }), at(60)]]),
    ],
    ['late_paid', () => drive(buildInvoice(), [[paymentSeen({ amount: due, confirmations: 2 }), LATE]])],
    ['expired', () => drive(buildInvoice(), [[expiryDue(), LATE]])],
    ['cancelled', () => drive(buildInvoice(), [[merchantCancel(), at(60)]])],
    ['failed', () => drive(buildInvoice(), [[markFailed(), at(60)]])],
    [
      'partially_refunded',
      () =>
        drive(buildInvoice(), [
          [paymentSeen({ amount: due, confirmations: 2 }), at(60)],
          [refund(half), at(70)],
        ]),
    ],
    [
      'refunded',
      () =>
        drive(buildInvoice(), [
          [paymentSeen({ amount: due, confirmations: 2 }), at(60)],
          [refund(due), at(70)],
        ]),
    ],
  ];

  it.each(['created', 'awaiting_payment'] as const)('is allowed from %s and records the actor', (status) => {
    const result = transition(buildInvoice({ status }), merchantCancel(API_KEY), at(60));
    expect(result.invoice.status).toBe('cancelled');
    expect(result.transitions).toMatchObject([
      { from: status, to: 'cancelled', actor: API_KEY, reason: null },
    ]);
    expect(eventTypes(result)).toEqual(['invoice.cancelled']);
  });

  it.each(starts)('is rejected from %s', (status, start) => {
    const invoice = start();
    expect(invoice.status).toBe(status);
    const result = transition(invoice, merchantCancel(), at(EXPIRY_SECONDS + 120));
    expect(result.rejected).toBe(`cannot cancel an invoice that is ${status}`);
    expect(result.invoice).toBe(invoice);
    expect(result.events).toEqual([]);
  });

  it('a payment to a cancelled invoice is an unmatched deposit, never credited', () => {
    const cancelled = drive(buildInvoice(), [[merchantCancel(), at(30)]]);
    const result = transition(cancelled, paymentSeen({ amount: due, confirmations: 6 }), at(60));
    expect(result.invoice.status).toBe('cancelled');
    expect(result.exceptions.map((e) => e.kind)).toEqual(['unmatched_deposit']);
    expect(creditedTotal(result.invoice)).toBe(0n);
  });
});

describe('operator actions', () => {
  it('mark_paid stores actor and reason and sets manuallyPaid; chain losses then keep it paid', () => {
    const detected = drive(buildInvoice(), [[paymentSeen({ paymentId: 'p1', amount: half }), at(60)]]);
    const result = transition(detected, markPaid('rest settled by card', OPERATOR), at(120));
    expect(result.invoice.status).toBe('paid');
    expect(result.invoice.manuallyPaid).toBe(true);
    expect(result.transitions).toEqual([
      {
        from: 'detected',
        to: 'paid',
        causeId: expect.any(String),
        causeKind: 'mark_paid',
        actor: OPERATOR,
        reason: 'rest settled by card',
      },
    ]);
    const lost = transition(result.invoice, removed('p1'), at(180));
    expect(lost.invoice.status).toBe('paid');
    expect(lost.transitions).toEqual([]);
  });

  it('mark_paid is rejected where the table does not allow it', () => {
    expect(transition(buildInvoice(), markPaid(), at(60)).rejected).toBe(
      'the invoice is awaiting_payment; mark_paid is allowed from detected, confirming, underpaid, expired',
    );
  });

  it('mark_failed stores actor and reason; later money is an unmatched deposit', () => {
    const detected = drive(buildInvoice(), [[paymentSeen({ paymentId: 'p1', amount: due }), at(60)]]);
    const failed = transition(detected, markFailed('stolen card report', OPERATOR), at(120));
    expect(failed.invoice.status).toBe('failed');
    expect(failed.transitions).toMatchObject([
      {
        from: 'detected',
        to: 'failed',
        causeKind: 'mark_failed',
        actor: OPERATOR,
        reason: 'stolen card report',
      },
    ]);
    const confirmed = transition(failed.invoice, confirmations('p1', 6), at(180));
    expect(confirmed.invoice.status).toBe('failed');
    const more = transition(failed.invoice, paymentSeen({ amount: due }), at(180));
    expect(more.exceptions.map((e) => e.kind)).toEqual(['unmatched_deposit']);
  });

  it('facts other than assignment and cancellation are rejected while created', () => {
    const created = buildInvoice({ status: 'created' });
    for (const fact of [paymentSeen({ amount: due }), expiryDue(), windowClosed(), markPaid(), refund(1n)]) {
      const result = transition(created, fact, AFTER_WINDOW);
      expect(result.rejected).toBe('options are not assigned yet');
      expect(result.invoice).toBe(created);
    }
  });
});

describe('refunds', () => {
  it('partial then full: paid → partially_refunded → refunded, with the actor recorded', () => {
    const paid = drive(buildInvoice(), [[paymentSeen({ amount: due, confirmations: 2 }), at(60)]]);
    const { invoice, results } = run(paid, [
      [refund(40_000n, OPERATOR), at(120)],
      [refund(60_000n, OPERATOR), at(180)],
    ]);
    expectNoRejections(results);
    expect(statusPath(results)).toEqual(['partially_refunded', 'refunded']);
    expect(results[0]?.transitions).toMatchObject([
      { from: 'paid', actor: OPERATOR, causeKind: 'refund_completed' },
    ]);
    expect(invoiceEvents(results)).toEqual(['invoice.partially_refunded', 'invoice.refunded']);
    expect(invoice.refundedAmount).toBe(due);
  });

  it('two partial refunds in a row stay partially_refunded without a second transition', () => {
    const paid = drive(buildInvoice(), [[paymentSeen({ amount: due, confirmations: 2 }), at(60)]]);
    const { invoice, results } = run(paid, [
      [refund(10_000n), at(120)],
      [refund(10_000n), at(130)],
    ]);
    expect(statusPath(results)).toEqual(['partially_refunded']);
    expect(invoice.refundedAmount).toBe(20_000n);
  });

  it('is rejected with nothing received or with a non-positive amount', () => {
    expect(transition(buildInvoice(), refund(1n), at(60)).rejected).toBe('nothing to refund');
    const paid = drive(buildInvoice(), [[paymentSeen({ amount: due, confirmations: 2 }), at(60)]]);
    expect(transition(paid, refund(0n), at(120)).rejected).toBe('nothing to refund');
    const cancelled = drive(buildInvoice(), [[merchantCancel(), at(60)]]);
    expect(transition(cancelled, refund(1n), at(120)).rejected).toBe('nothing to refund');
  });

  it('while payment is in progress, a refund seen on chain is recorded, not refused', () => {
    // The refund API never starts one there (src/refunds/refund-service.ts); the chain can show
    // one: an orphaned refund mined again before the invoice's own payment, reorged with it,
    // settles again. Refusing would leave money gone and the books waiting (and the watcher
    // stuck on that block).
    const detected = drive(buildInvoice(), [[paymentSeen({ amount: due }), at(60)]]);
    const r = transition(detected, refund(half), at(120));
    expect(r.rejected).toBeNull();
    expect(r.invoice).toMatchObject({ status: 'partially_refunded', refundedAmount: half });
  });

  it('chain facts never move a refunded invoice', () => {
    const refunded = drive(buildInvoice(), [
      [paymentSeen({ paymentId: 'p1', amount: due, confirmations: 2 }), at(60)],
      [refund(due), at(120)],
    ]);
    const result = transition(refunded, removed('p1'), at(180));
    expect(result.invoice.status).toBe('refunded');
    expect(result.transitions).toEqual([]);
    expect(result.exceptions).toEqual([]);
  });
});

describe('payment.confirmed, however a payment reaches its depth (decision 0021)', () => {
  it('follows payment.restored when a removed payment is mined after all at its depth', () => {
    let invoice = buildInvoice();
    const seen = paymentSeen({ paymentId: 'p1', amount: due, confirmations: 0 });
    invoice = transition(invoice, seen, at(60)).invoice;
    invoice = transition(invoice, removed('p1', undefined, 'dropped'), at(120)).invoice;
    expect(invoice.payments[0]?.removed).toBe(true);
    const restored = transition(invoice, confirmations('p1', 6), at(180));
    expect(restored.rejected).toBeNull();
    expect(eventTypes(restored).slice(0, 2)).toEqual(['payment.restored', 'payment.confirmed']);
    expect(restored.invoice.status).toBe('paid');
  });

  it('is not repeated by deeper blocks, only after a reorg took the payment below its depth', () => {
    let invoice = buildInvoice();
    const first = transition(
      invoice,
      paymentSeen({ paymentId: 'p1', amount: due, confirmations: 6 }),
      at(60),
    );
    expect(eventTypes(first)).toContain('payment.confirmed');
    invoice = first.invoice;
    const deeper = transition(invoice, confirmations('p1', 7), at(120));
    expect(eventTypes(deeper)).not.toContain('payment.confirmed');
    invoice = transition(deeper.invoice, confirmations('p1', 0), at(180)).invoice;
    const again = transition(invoice, confirmations('p1', 6), at(240));
    expect(eventTypes(again).filter((t) => t === 'payment.confirmed')).toHaveLength(1);
  });
});
