import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BitcoinHarness, bitcoinHarness, startChain } from '../helpers/bitcoin-e2e.ts';
import type { TestWallet } from '../helpers/btc-wallet.ts';
import type { Btcd } from '../helpers/btcd.ts';
import { DATABASES } from '../helpers/databases.ts';

/**
 * SCENARIOS.md 1–5, 8, 9 and 13 end to end: a real btcd in regtest, real signed transactions,
 * the watcher reading the node, and the outcome read back through the HTTP API and its events.
 */
let chain: { node: Btcd; wallet: TestWallet };
beforeAll(async () => {
  chain = await startChain();
}, 120_000);
afterAll(async () => chain?.node.stop());

describe.each(DATABASES)('Bitcoin payments against btcd ($name)', ({ fresh }) => {
  let h: BitcoinHarness;
  let wallet: TestWallet;
  beforeAll(async () => {
    wallet = chain.wallet;
    h = await bitcoinHarness(await fresh(), chain.node);
  }, 60_000);
  afterAll(async () => h?.close());

  it('1: an exact payment moves detected → confirming → paid, one event each', async () => {
    const inv = await h.invoice('0.001', {
      value_currency: 'BTC',
      confirmation_tiers: { 'bitcoin-regtest': [{ max_value: null, confirmations: 2 }] },
    });
    const sent = await wallet.pay([{ address: inv.address, amount: inv.due }]);
    await h.sync();
    let body = await h.get(inv.id);
    expect(body.status).toBe('detected');
    expect(body.payments).toHaveLength(1);
    expect(body.payments[0]).toMatchObject({ txid: sent.txid, amount: '0.001', confirmations: 0 });
    await wallet.mine(1);
    await h.sync();
    body = await h.get(inv.id);
    expect(body.status).toBe('confirming');
    expect(body.payments[0].confirmations).toBe(1);
    await wallet.mine(1);
    await h.sync();
    body = await h.get(inv.id);
    expect(body.status).toBe('paid');
    expect(body.payments[0].confirmations).toBe(2);
    const types = await h.eventTypes(inv.id);
    for (const t of [
      'invoice.detected',
      'invoice.confirming',
      'invoice.paid',
      'payment.detected',
      'payment.confirmed',
    ]) {
      expect(
        types.filter((x) => x === t),
        t,
      ).toHaveLength(1);
    }
    // Later blocks add depth but no new state change.
    await wallet.mine(2);
    await h.sync();
    expect((await h.eventTypes(inv.id)).filter((t) => t.startsWith('invoice.'))).toHaveLength(
      types.filter((t) => t.startsWith('invoice.')).length,
    );
  });

  it('2: an underpayment inside the tolerance is paid, and the shortfall is on record', async () => {
    const inv = await h.invoice('0.01', { underpayment_tolerance_bps: 100 });
    const short = inv.due - inv.due / 200n; // 0.5 % short, inside 1 %
    await wallet.pay([{ address: inv.address, amount: short }]);
    await wallet.mine(1);
    await h.sync();
    const body = await h.get(inv.id);
    expect(body.status).toBe('paid');
    expect(BigInt(body.payments[0].amount_base_units)).toBe(short);
    expect(body.shortfall).toBe('0.00005');
    expect(inv.due - short).toBe(5_000n);
  });

  it('3: a material underpayment is underpaid; a top-up to the same address makes it paid', async () => {
    const inv = await h.invoice('0.002');
    await wallet.pay([{ address: inv.address, amount: inv.due / 2n }]);
    await wallet.mine(1);
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('underpaid');
    await wallet.pay([{ address: inv.address, amount: inv.due - inv.due / 2n }]);
    await wallet.mine(1);
    await h.sync();
    const body = await h.get(inv.id);
    expect(body.status).toBe('paid');
    expect(body.payments).toHaveLength(2);
  });

  it('4: two partial payments in two transactions add up to paid, both listed', async () => {
    const inv = await h.invoice('0.003');
    const a = await wallet.pay([{ address: inv.address, amount: inv.due / 3n }]);
    const b = await wallet.pay([{ address: inv.address, amount: inv.due - inv.due / 3n }]);
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('detected');
    await wallet.mine(1);
    await h.sync();
    const body = await h.get(inv.id);
    expect(body.status).toBe('paid');
    expect(body.payments.map((p: { txid: string }) => p.txid).sort()).toEqual([a.txid, b.txid].sort());
  });

  it('5: an overpayment is overpaid (fulfillable) with an exception for the excess', async () => {
    const inv = await h.invoice('0.001');
    await wallet.pay([{ address: inv.address, amount: inv.due * 2n }]);
    await wallet.mine(1);
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('overpaid');
    const [exception] = await h.exceptions(inv.id);
    expect(exception).toMatchObject({
      kind: 'overpayment',
      evidence: { excess_base_units: inv.due.toString(), due_base_units: inv.due.toString(), asset: 'BTC' },
    });
    // The exception reaches the merchant as a webhook event, and the order can still be fulfilled.
    expect((await h.eventTypes(inv.id)).filter((t) => t === 'exception.opened')).toHaveLength(1);
    const fulfilled = await h.request('POST', `/v1/invoices/${inv.id}/fulfilment`, {
      body: { reference: 'ship-overpaid' },
    });
    expect(fulfilled.status).toBe(200);
    expect(fulfilled.body.fulfilment.reference).toBe('ship-overpaid');
  });

  it('8: one exchange batch paying three invoices (plus change) credits each with its own output', async () => {
    const invoices = [await h.invoice('0.001'), await h.invoice('0.002'), await h.invoice('0.004')];
    const sent = await wallet.pay(invoices.map((i) => ({ address: i.address, amount: i.due })));
    await wallet.mine(1);
    await h.sync();
    for (const inv of invoices) {
      const body = await h.get(inv.id);
      expect(body.status).toBe('paid');
      expect(body.payments).toHaveLength(1);
      expect(body.payments[0].txid).toBe(sent.txid);
      expect(BigInt(body.payments[0].amount_base_units)).toBe(inv.due);
    }
  });

  it('9: the same invoice paid twice in full is paid plus a duplicate-payment exception', async () => {
    const inv = await h.invoice('0.001');
    await wallet.pay([{ address: inv.address, amount: inv.due }]);
    await wallet.mine(1);
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('paid');
    const second = await wallet.pay([{ address: inv.address, amount: inv.due }]);
    await wallet.mine(1);
    await h.sync();
    const body = await h.get(inv.id);
    expect(body.status).toBe('paid');
    expect(body.payments).toHaveLength(2);
    const exceptions = await h.exceptions(inv.id);
    expect(exceptions.map((e) => e.kind)).toEqual(['duplicate_payment']);
    expect(exceptions[0]?.evidence).toMatchObject({ txid: second.txid });
    expect((await h.eventTypes(inv.id)).filter((t) => t === 'exception.opened')).toHaveLength(1);
  });

  it('an invoice created and paid while a poll is under way is matched by that same poll', async () => {
    // The race: the watch set was refreshed at the start of the poll; the invoice is created and
    // paid before the poll reads the mempool. The hook runs exactly then, against the real node.
    const node = (h.watcher as unknown as { options: { node: { mempoolTxids(): Promise<string[]> } } })
      .options.node;
    const original = node.mempoolTxids.bind(node);
    let inv: Awaited<ReturnType<BitcoinHarness['invoice']>> | undefined;
    node.mempoolTxids = async () => {
      inv = await h.invoice('0.001');
      await wallet.pay([{ address: inv.address, amount: inv.due }]);
      node.mempoolTxids = original;
      return original();
    };
    await h.sync();
    expect(inv).toBeDefined();
    expect((await h.get(inv?.id as string)).status).toBe('detected');
  });

  it('13: zero-conf below the threshold pays from the mempool only without RBF; above it waits for a block', async () => {
    const zeroConf = { zero_conf_max_value: '0.002', value_currency: 'BTC' };
    const small = await h.invoice('0.001', zeroConf);
    const smallRbf = await h.invoice('0.001', zeroConf);
    const large = await h.invoice('0.01', zeroConf);
    await wallet.pay([{ address: small.address, amount: small.due }]);
    await wallet.pay([{ address: smallRbf.address, amount: smallRbf.due }], { rbf: true });
    await wallet.pay([{ address: large.address, amount: large.due }]);
    await h.sync();
    expect((await h.get(small.id)).status).toBe('paid');
    expect((await h.get(smallRbf.id)).status).toBe('detected');
    expect((await h.get(large.id)).status).toBe('detected');
    await wallet.mine(1);
    await h.sync();
    expect((await h.get(smallRbf.id)).status).toBe('paid');
    expect((await h.get(large.id)).status).toBe('paid');
  });
});
