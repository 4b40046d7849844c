/**
 * The books follow the records: a settled payment, an overpayment, a reorg that takes the money
 * away again, and refunds each append one balanced transaction, never an edit; `verifyLedger`
 * recomputes every invoice's position from its records and finds a tampered entry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.ts';
import { applyFact } from '../../src/invoices/apply-fact.ts';
import { createInvoice } from '../../src/invoices/create-invoice.ts';
import type { ObservedPayment } from '../../src/invoices/facts.ts';
import { backfillLedger } from '../../src/ledger/backfill.ts';
import { ledgerBalances } from '../../src/ledger/balances.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { requestRefund } from '../../src/refunds/refund-service.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

const SYSTEM = { kind: 'system' as const, id: 'test' };

describe.each(DATABASES)('ledger on $name', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh());
  });
  afterAll(async () => h?.close());

  const usdInvoice = async () => {
    const inv = await createInvoice(h.tally, h.merchantId, {
      price: { amount: '25.00', currency: 'USD' },
      payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      merchant_order_id: 'order-1',
    });
    const option = inv.payment_options[0];
    if (!option) throw new Error('no option');
    return { id: inv.id, optionId: option.id, due: BigInt(option.amount_due_base_units) };
  };
  const paid = (optionId: string, amount: bigint, confirmations = 6): ObservedPayment => ({
    paymentId: newId('pay'),
    optionId,
    txid: newId('obs').padEnd(64, '0').slice(0, 64),
    outputIndex: 0,
    amount,
    rbf: false,
    confirmations,
    blockHash: confirmations > 0 ? 'b'.repeat(64) : null,
    blockHeight: confirmations > 0 ? 100 : null,
  });
  const entriesOf = (invoiceId: string) =>
    h.tally.database.db
      .selectFrom('ledger_entries')
      .select(['account', 'direction', 'amount', 'fiat_value', 'fiat_currency', 'transaction_id'])
      .where('invoice_id', '=', invoiceId)
      .orderBy('id')
      .execute();

  it('books nothing for mempool money, then revenue and the excess when the overpayment settles', async () => {
    const inv = await usdInvoice();
    const payment = paid(inv.optionId, inv.due + 1_000n, 0);
    await applyFact(h.tally, h.merchantId, inv.id, { kind: 'payment_seen', id: newId('obs'), payment });
    expect(await entriesOf(inv.id)).toEqual([]);
    await applyFact(h.tally, h.merchantId, inv.id, {
      kind: 'payment_confirmations',
      id: newId('obs'),
      paymentId: payment.paymentId,
      confirmations: 6,
      blockHash: 'c'.repeat(64),
      blockHeight: 101,
    });
    const rows = await entriesOf(inv.id);
    const by = (account: string) => rows.find((r) => r.account === account);
    expect(by('assets:invoice_addresses')).toMatchObject({
      direction: 'debit',
      amount: String(inv.due + 1_000n),
    });
    // Revenue carries the price exactly, not the price re-derived through the rate.
    expect(by('revenue:sales')).toMatchObject({
      direction: 'credit',
      amount: String(inv.due),
      fiat_value: '-25',
      fiat_currency: 'USD',
    });
    expect(by('liabilities:overpayments')).toMatchObject({ direction: 'credit', amount: '1000' });
    expect(new Set(rows.map((r) => r.transaction_id)).size).toBe(1);
  });

  it('reverses by appending when a reorg removes a settled payment, and books refunds against the excess first', async () => {
    const inv = await usdInvoice();
    const payment = paid(inv.optionId, inv.due + 5_000n);
    await applyFact(h.tally, h.merchantId, inv.id, { kind: 'payment_seen', id: newId('obs'), payment });
    const first = await entriesOf(inv.id);
    await applyFact(h.tally, h.merchantId, inv.id, {
      kind: 'payment_removed',
      id: newId('obs'),
      paymentId: payment.paymentId,
      reason: 'double_spent',
    });
    const afterReorg = await entriesOf(inv.id);
    // The earlier rows are untouched; the reversal is a second transaction.
    expect(afterReorg.slice(0, first.length)).toEqual(first);
    expect(new Set(afterReorg.map((r) => r.transaction_id)).size).toBe(2);
    const balances = await ledgerBalances(h.tally.database.db, h.merchantId);
    expect(balances.every((b) => b.asset === 'BTC')).toBe(true);

    const again = paid(inv.optionId, inv.due + 5_000n);
    await applyFact(h.tally, h.merchantId, inv.id, {
      kind: 'payment_seen',
      id: newId('obs'),
      payment: again,
    });
    // The fact names a refund of the invoice (its event carries it); asked for through a link,
    // so it needs no address.
    const asked = await requestRefund(h.tally, h.merchantId, 'key_test', inv.id, {
      kind: 'partial',
      amount: '0.00008',
      reason: 'ledger test',
      customer_link: true,
    });
    const out = await applyFact(h.tally, h.merchantId, inv.id, {
      kind: 'refund_completed',
      id: newId('obs'),
      refundId: asked.id,
      amount: 8_000n,
      actor: SYSTEM,
    });
    expect(out.invoice.status).toBe('partially_refunded');
    const rows = await entriesOf(inv.id);
    const last = rows.filter((r) => r.transaction_id === rows[rows.length - 1]?.transaction_id);
    expect(last.map((r) => [r.account, r.direction, r.amount]).sort()).toEqual(
      [
        ['clearing:refunds_in_transit', 'credit', '8000'],
        ['liabilities:overpayments', 'debit', '5000'],
        ['revenue:refunds', 'debit', '3000'],
      ].sort(),
    );
    const report = await verifyLedger(h.tally.database.db, h.tally.database.dialect, h.merchantId);
    expect(report).toMatchObject({ ok: true, unbalanced: [], mismatched: [] });
    expect(report.invoices_checked).toBeGreaterThanOrEqual(2);
  });

  it('backfill books invoices paid before the ledger existed, once', async () => {
    const inv = await usdInvoice();
    await applyFact(h.tally, h.merchantId, inv.id, {
      kind: 'payment_seen',
      id: newId('obs'),
      payment: paid(inv.optionId, inv.due),
    });
    // As if paid before migration 0009: the records are there, the entries are not.
    await h.tally.database.db.deleteFrom('ledger_entries').where('invoice_id', '=', inv.id).execute();
    const before = await verifyLedger(h.tally.database.db, h.tally.database.dialect, h.merchantId);
    expect(before.mismatched.map((m) => m.invoice_id)).toContain(inv.id);
    expect(await backfillLedger(h.tally, h.merchantId)).toMatchObject({ booked: 1 });
    expect(await backfillLedger(h.tally, h.merchantId)).toMatchObject({ booked: 0 });
    const after = await verifyLedger(h.tally.database.db, h.tally.database.dialect, h.merchantId);
    expect(after.mismatched.map((m) => m.invoice_id)).not.toContain(inv.id);
    expect((await entriesOf(inv.id)).map((e) => e.account).sort()).toEqual([
      'assets:invoice_addresses',
      'revenue:sales',
    ]);
  });

  it('verify finds an entry that no record explains and a transaction that does not balance', async () => {
    const inv = await usdInvoice();
    await applyFact(h.tally, h.merchantId, inv.id, {
      kind: 'payment_seen',
      id: newId('obs'),
      payment: paid(inv.optionId, inv.due),
    });
    const [entry] = await entriesOf(inv.id);
    if (!entry) throw new Error('no entry');
    await h.tally.database.db
      .insertInto('ledger_entries')
      .values({
        id: newId('len'),
        transaction_id: entry.transaction_id,
        merchant_id: h.merchantId,
        invoice_id: inv.id,
        account: 'revenue:sales',
        asset: 'BTC',
        network: 'bitcoin-regtest',
        direction: 'credit',
        amount: '1',
        fiat_currency: null,
        fiat_value: null,
        created_at: new Date().toISOString(),
      })
      .execute();
    const report = await verifyLedger(h.tally.database.db, h.tally.database.dialect, h.merchantId);
    expect(report.ok).toBe(false);
    expect(report.unbalanced).toEqual([
      expect.objectContaining({
        transaction_id: entry.transaction_id,
        asset: 'BTC',
        credits: String(inv.due + 1n),
      }),
    ]);
    expect(report.mismatched.map((m) => m.invoice_id)).toEqual([inv.id]);
  });
});
