/**
 * The address gap of Bitcoin wallets: its definition, its place on the wallet JSON, the
 * wallet.gap_warning event (once per crossing of the threshold, again after falling back below)
 * and the tally_wallet_address_gap gauge, on both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFact } from '../../src/invoices/apply-fact.ts';
import { BIP44_GAP_LIMIT, GAP_WARNING_THRESHOLD, gapSize } from '../../src/wallets/address-gap.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { paymentSeen, removed } from '../invoices/builders.ts';

describe('gapSize', () => {
  it('is highest allocated − last paid, highest + 1 when nothing is paid, 0 when nothing is allocated', () => {
    expect(gapSize(null, null)).toBe(0);
    expect(gapSize(0, null)).toBe(1);
    expect(gapSize(9, null)).toBe(10);
    expect(gapSize(9, 9)).toBe(0);
    expect(gapSize(9, 4)).toBe(5);
  });

  it('warns before the gap limit of standard wallets', () => {
    expect(GAP_WARNING_THRESHOLD).toBeLessThan(BIP44_GAP_LIMIT);
    expect(BIP44_GAP_LIMIT).toBe(20);
  });
});

describe.each(DATABASES)('wallet address gap on $name', ({ fresh }) => {
  let h: Harness;
  let walletId: string;
  /** Invoices in allocation order: the n-th one holds derivation index n. */
  const invoices: Array<{ id: string; optionId: string; address: string }> = [];

  beforeAll(async () => {
    h = await createHarness(await fresh());
    const wallets = (await h.request('GET', '/v1/wallets')).body.data as Array<{ id: string; scope: string }>;
    walletId = wallets.find((w) => w.scope === 'bitcoin-regtest')?.id ?? '';
    await drain();
  });
  afterAll(async () => h?.close());

  async function drain(): Promise<void> {
    while ((await h.worker.runDue()) > 0) {}
  }

  async function invoice(): Promise<void> {
    const res = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '0.001', currency: 'BTC' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      },
    });
    expect(res.status).toBe(201);
    const option = res.body.payment_options[0];
    invoices.push({ id: res.body.id, optionId: option.id, address: option.address });
  }

  async function pay(n: number): Promise<string> {
    const target = invoices[n];
    if (!target) throw new Error(`no invoice ${n}`);
    const fact = paymentSeen({ optionId: target.optionId, amount: 100_000n });
    await applyFact(h.tally, h.merchantId, target.id, fact);
    return fact.payment.paymentId;
  }

  async function gap() {
    const res = await h.request('GET', `/v1/wallets/${walletId}`);
    expect(res.status).toBe(200);
    return res.body.gap;
  }

  async function warnings() {
    const res = await h.request('GET', '/v1/events?type=wallet.gap_warning&limit=100');
    expect(res.status).toBe(200);
    return res.body.data as Array<{
      type: string;
      data: { wallet: { id: string }; gap: Record<string, unknown> };
    }>;
  }

  async function metric(): Promise<number | null> {
    const res = await h.app.server.inject({ method: 'GET', url: '/metrics' });
    const line = res.body
      .split('\n')
      .find((l: string) => l.startsWith(`tally_wallet_address_gap{wallet_id="${walletId}"}`));
    return line === undefined ? null : Number(line.split(' ').pop());
  }

  it('shows an empty gap on a new Bitcoin wallet and none on an EVM wallet', async () => {
    expect(await gap()).toEqual({
      unpaid_since_last_paid: 0,
      last_paid_index: null,
      highest_allocated_index: null,
      limit: 20,
      warning_threshold: GAP_WARNING_THRESHOLD,
      warning: false,
      warned_at: null,
    });
    const list = (await h.request('GET', '/v1/wallets')).body.data as Array<{ scope: string; gap: unknown }>;
    expect(list.find((w) => w.scope === 'evm')?.gap).toBeNull();
    expect(list.find((w) => w.scope === 'bitcoin-regtest')?.gap).toMatchObject({ unpaid_since_last_paid: 0 });
    expect(await metric()).toBe(0);
  });

  it('counts allocated addresses after the last paid one; a removed payment does not count as paid', async () => {
    for (let i = 0; i < 3; i++) await invoice(); // indexes 0, 1, 2
    expect(await gap()).toMatchObject({
      unpaid_since_last_paid: 3,
      last_paid_index: null,
      highest_allocated_index: 2,
    });
    const paymentId = await pay(1);
    expect(await gap()).toMatchObject({
      unpaid_since_last_paid: 1,
      last_paid_index: 1,
      highest_allocated_index: 2,
    });
    await applyFact(h.tally, h.merchantId, invoices[1]?.id ?? '', removed(paymentId));
    expect(await gap()).toMatchObject({ unpaid_since_last_paid: 3, last_paid_index: null });
    await pay(0);
    expect(await gap()).toMatchObject({ unpaid_since_last_paid: 2, last_paid_index: 0 });
    expect(await metric()).toBe(2);
  });

  it('emits wallet.gap_warning when the gap reaches the threshold, once per crossing', async () => {
    // Last paid index 0: the gap is the highest allocated index. Up to 15 stays below the threshold.
    while (invoices.length < GAP_WARNING_THRESHOLD) await invoice();
    await drain();
    expect(await gap()).toMatchObject({ unpaid_since_last_paid: 15, warning: false, warned_at: null });
    expect(await warnings()).toHaveLength(0);

    await invoice(); // index 16: gap 16
    expect((await gap()).warning).toBe(true); // the JSON is live; the event waits for the worker
    expect(await warnings()).toHaveLength(0);
    await drain();
    const [event] = await warnings();
    expect(event?.data.wallet.id).toBe(walletId);
    expect(event?.data.gap).toMatchObject({
      unpaid_since_last_paid: 16,
      last_paid_index: 0,
      highest_allocated_index: 16,
      limit: 20,
    });
    const row = await h.tally.database.db
      .selectFrom('events')
      .select(['invoice_id', 'merchant_id'])
      .where('type', '=', 'wallet.gap_warning')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ invoice_id: null, merchant_id: h.merchantId });
    const warned = await gap();
    expect(warned).toMatchObject({ unpaid_since_last_paid: 16, warning: true });
    expect(warned.warned_at).toBe(h.clock.now().toISOString());
    expect(await metric()).toBe(16);

    // Still above: more allocations, more checks, no second event.
    await invoice();
    await invoice();
    await drain();
    expect(await warnings()).toHaveLength(1);
    expect(await metric()).toBe(18);
  });

  it('clears the mark once the gap falls below, and warns again on the next crossing', async () => {
    await pay(invoices.length - 1); // index 18 paid: gap 0
    await invoice(); // index 19: gap 1, and a check runs
    await drain();
    expect(await gap()).toMatchObject({
      unpaid_since_last_paid: 1,
      last_paid_index: 18,
      warning: false,
      warned_at: null,
    });
    expect(await warnings()).toHaveLength(1);

    for (let i = 0; i < 15; i++) await invoice(); // up to index 34: gap 16
    await drain();
    const events = await warnings();
    expect(events).toHaveLength(2);
    expect(events[1]?.data.gap).toMatchObject({ unpaid_since_last_paid: 16, last_paid_index: 18 });
    expect(await metric()).toBe(16);
  });
});
