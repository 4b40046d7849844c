import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BitcoinHarness, bitcoinHarness, startChain } from '../helpers/bitcoin-e2e.ts';
import type { TestWallet } from '../helpers/btc-wallet.ts';
import type { Btcd } from '../helpers/btcd.ts';
import { DATABASES } from '../helpers/databases.ts';

/** SCENARIOS.md 10–12 against btcd: RBF replacements and reorgs by invalidateblock/reconsiderblock. */
let chain: { node: Btcd; wallet: TestWallet };
beforeAll(async () => {
  chain = await startChain();
}, 120_000);
afterAll(async () => chain?.node.stop());

const threeConfirmations = {
  value_currency: 'BTC',
  confirmation_tiers: { 'bitcoin-regtest': [{ max_value: null, confirmations: 3 }] },
};

describe.each(DATABASES)('Bitcoin RBF and reorgs against btcd ($name)', ({ fresh }) => {
  let h: BitcoinHarness;
  let wallet: TestWallet;
  const rpc = () => chain.node.rpc;
  beforeAll(async () => {
    wallet = chain.wallet;
    h = await bitcoinHarness(await fresh(), chain.node);
  }, 60_000);
  afterAll(async () => h?.close());

  it('10a: an RBF replacement that still pays the address takes over the payment', async () => {
    const inv = await h.invoice('0.001');
    const original = await wallet.pay([{ address: inv.address, amount: inv.due }], { rbf: true });
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('detected');
    const replacement = await wallet.replace(original, [{ address: inv.address, amount: inv.due }], {
      rbf: true,
    });
    await h.sync();
    let body = await h.get(inv.id);
    expect(body.status).toBe('detected');
    const byTx = Object.fromEntries(body.payments.map((p: { txid: string }) => [p.txid, p]));
    expect(byTx[original.txid]).toMatchObject({ removed: true, removed_reason: 'replaced' });
    expect(byTx[replacement.txid]).toMatchObject({ removed: false, credited: true });
    expect(await h.eventTypes(inv.id)).toContain('payment.replaced');
    await wallet.mine(1);
    await h.sync();
    body = await h.get(inv.id);
    expect(body.status).toBe('paid');
    expect(body.amount_paid).toBe('0.001');
  });

  it('10b: a replacement that no longer pays sends the invoice back to awaiting_payment with an event', async () => {
    const inv = await h.invoice('0.001');
    const original = await wallet.pay([{ address: inv.address, amount: inv.due }], { rbf: true });
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('detected');
    await wallet.replace(original, [{ address: wallet.address, amount: inv.due }]);
    await h.sync();
    const body = await h.get(inv.id);
    expect(body.status).toBe('awaiting_payment');
    expect(body.payments[0]).toMatchObject({ removed: true, credited: true });
    expect(body.amount_paid).toBe('0');
    const types = await h.eventTypes(inv.id);
    expect(types.slice(-2)).toEqual(['payment.replaced', 'invoice.awaiting_payment']);
    // Mining the replacement changes nothing for the invoice.
    await wallet.mine(1);
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('awaiting_payment');
  });

  it('10c: a transaction replaced in our mempool but mined after all (the race went the other way) is restored', async () => {
    const inv = await h.invoice('0.001');
    const original = await wallet.pay([{ address: inv.address, amount: inv.due }], { rbf: true });
    await h.sync();
    const [minedWithOriginal] = await wallet.mine(1);
    // Our node switches away from that block before the watcher reads it, and sees a replacement.
    await rpc().call('invalidateblock', [minedWithOriginal]);
    await wallet.replace(original, [{ address: wallet.address, amount: inv.due }], { rbf: true });
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('awaiting_payment');
    // The chain with the original wins after all.
    await rpc().call('reconsiderblock', [minedWithOriginal]);
    await h.sync();
    const body = await h.get(inv.id);
    expect(body.status).toBe('paid');
    expect(body.payments).toHaveLength(1);
    expect(body.payments[0]).toMatchObject({
      txid: original.txid,
      removed: false,
      credited: true,
      block_hash: minedWithOriginal,
    });
    expect(await h.eventTypes(inv.id)).toContain('payment.restored');
  });

  it('11: a reorg before the threshold recomputes confirmations; the payment continues when re-mined', async () => {
    const inv = await h.invoice('0.001', threeConfirmations);
    await wallet.pay([{ address: inv.address, amount: inv.due }]);
    const [first] = await wallet.mine(1);
    await wallet.mine(1);
    await h.sync();
    let body = await h.get(inv.id);
    expect(body.status).toBe('confirming');
    expect(body.payments[0].confirmations).toBe(2);
    await rpc().call('invalidateblock', [first]);
    await h.sync();
    body = await h.get(inv.id);
    expect(body.payments[0]).toMatchObject({ confirmations: 0, block_hash: null });
    expect(body.status).toBe('detected');
    expect(await h.eventTypes(inv.id)).toContain('payment.reorged');
    await rpc().call('reconsiderblock', [first]);
    await wallet.mine(1);
    await h.sync();
    body = await h.get(inv.id);
    expect(body.payments[0]).toMatchObject({ confirmations: 3, block_hash: first });
    expect(body.status).toBe('paid');
  });

  it('11: re-mined into a different block after the reorg, the payment follows the new block to paid', async () => {
    const inv = await h.invoice('0.001', threeConfirmations);
    const sent = await wallet.pay([{ address: inv.address, amount: inv.due }]);
    const [first] = await wallet.mine(1);
    await h.sync();
    expect((await h.get(inv.id)).payments[0]).toMatchObject({ confirmations: 1, block_hash: first });
    // The block is orphaned for good; its transaction goes back to the node's mempool.
    await rpc().call('invalidateblock', [first]);
    const pool = await rpc().call<string[]>('getrawmempool', []);
    expect(pool).toContain(sent.txid);
    await h.sync();
    let body = await h.get(inv.id);
    expect(body.payments[0]).toMatchObject({ confirmations: 0, block_hash: null });
    // A new block at the same height holds it now.
    const [second] = await wallet.mine(1);
    expect(second).not.toBe(first);
    const block = await rpc().call<{ tx: string[] }>('getblock', [second, 1]);
    expect(block.tx).toContain(sent.txid);
    await wallet.mine(2);
    await h.sync();
    body = await h.get(inv.id);
    expect(body.payments).toHaveLength(1);
    expect(body.payments[0]).toMatchObject({ txid: sent.txid, confirmations: 3, block_hash: second });
    expect(body.status).toBe('paid');
    const types = await h.eventTypes(inv.id);
    expect(types.filter((t) => t === 'payment.reorged')).toHaveLength(1);
    // Depth 3 was reached only in the new chain: one confirmation, one paid.
    expect(types.filter((t) => t === 'payment.confirmed')).toHaveLength(1);
    expect(types.filter((t) => t === 'invoice.paid')).toHaveLength(1);
  });

  it('12: a reorg after paid that double-spends the payment raises "reorg after paid" and moves the invoice back', async () => {
    const inv = await h.invoice('0.001');
    const payment = await wallet.pay([{ address: inv.address, amount: inv.due }], { rbf: true });
    const [block] = await wallet.mine(1);
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('paid');
    await rpc().call('invalidateblock', [block]);
    // The attacker's conflicting transaction pays themselves and wins the new chain.
    const doubleSpend = wallet.build(payment.inputs, [{ address: wallet.address, amount: inv.due }], {
      fee: 200_000n,
      rbf: true,
    });
    await rpc().call('sendrawtransaction', [doubleSpend.hex]);
    await wallet.mine(2);
    await h.sync();
    const body = await h.get(inv.id);
    expect(body.status).toBe('awaiting_payment');
    expect(body.payments[0]).toMatchObject({ removed: true, removed_reason: 'double_spent' });
    const exceptions = await h.exceptions(inv.id);
    expect(exceptions.map((e) => e.kind)).toContain('reorg_after_paid');
    const types = await h.eventTypes(inv.id);
    expect(types).toContain('payment.reorged');
    expect(types).toContain('exception.opened');
    expect(types.at(-1)).toBe('invoice.awaiting_payment');
  });
});
