/**
 * Reorgs of outgoing Bitcoin movements against btcd, on both databases: when the block holding a
 * booked sweep or refund leaves the best chain, the watcher's roll-back reverses the movement (a
 * `movement_reversal` ledger transaction with the opposite entries, the movement flagged removed,
 * its payments unspent again); mined again, the transaction is booked as a new movement. A refund
 * whose transaction is orphaned goes back to `approved` and its invoice un-refunds through
 * `refund_reverted` (status, refunded amount, `refund.reverted`, the books), reconciliation flags
 * the orphaned transaction; mined again, the refund completes again, once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitcoinNode } from '../../src/chains/bitcoin/bitcoin-node.ts';
import { reconcileBitcoin } from '../../src/reconciliation/reconcile-bitcoin.ts';
import { buildBitcoinSweep } from '../../src/settlement/sweep.ts';
import { type BitcoinHarness, bitcoinHarness, startChain } from '../helpers/bitcoin-e2e.ts';
import type { TestWallet } from '../helpers/btc-wallet.ts';
import type { Btcd } from '../helpers/btcd.ts';
import { DATABASES } from '../helpers/databases.ts';
import { activateSegwit, signAndBroadcast } from '../helpers/merchant-signer.ts';

let chain: { node: Btcd; wallet: TestWallet };
beforeAll(async () => {
  chain = await startChain();
  await activateSegwit(chain.node.rpc);
}, 120_000);
afterAll(async () => chain?.node.stop());

describe.each(DATABASES)('Bitcoin movements and reorgs against btcd ($name)', ({ fresh }) => {
  let h: BitcoinHarness;
  beforeAll(async () => {
    h = await bitcoinHarness(await fresh(), chain.node);
  }, 60_000);
  afterAll(async () => h?.close());

  const rpc = () => chain.node.rpc;
  const movementsOf = (txid: string) =>
    h.tally.database.db
      .selectFrom('settlement_movements')
      .selectAll()
      .where('txid', '=', txid)
      .orderBy('id')
      .execute();
  const kinds = async (movementId: string) =>
    (
      await h.tally.database.db
        .selectFrom('ledger_transactions')
        .select('kind')
        .where('movement_id', '=', movementId)
        .orderBy('id')
        .execute()
    ).map((t) => t.kind);
  const balance = async (account: string) => {
    const rows = (await h.request('GET', '/v1/ledger/balances')).body.data as Array<{
      account: string;
      balance_base_units: string;
    }>;
    return BigInt(rows.find((b) => b.account === account)?.balance_base_units ?? '0');
  };
  const verified = async () => (await h.request('GET', '/v1/ledger/verify')).body;
  /** Takes the tip block out of the best chain and mines the transaction again in a new block. */
  const reorgTip = async (hex: string) => {
    const tip = await rpc().call<string>('getbestblockhash');
    await rpc().call('invalidateblock', [tip]);
    await h.sync();
    const reversed = async () => {
      // The transaction may or may not be back in btcd's mempool; sending it again is harmless.
      await rpc()
        .call('sendrawtransaction', [hex])
        .catch(() => undefined);
      await chain.wallet.mine(1);
      await h.sync();
    };
    return reversed;
  };

  it('a sweep whose block is orphaned is reversed, and booked again when mined again', async () => {
    const inv = await h.invoice('0.0021');
    await chain.wallet.pay([{ address: inv.address, amount: inv.due }]);
    await chain.wallet.mine(1);
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('paid');
    const sweep = await buildBitcoinSweep(h.tally, h.merchantId, {
      network: 'bitcoin-regtest',
      destination: chain.wallet.address,
      feeRate: '2',
    });
    const sent = await signAndBroadcast(rpc(), sweep.psbt);
    await chain.wallet.mine(1);
    await h.sync();
    const [booked] = await movementsOf(sent.txid);
    expect(booked).toMatchObject({ removed: 0, log_index: -1 });
    const swept = BigInt(booked?.swept ?? 0);
    expect(swept).toBeGreaterThan(0n);
    expect(await balance('assets:swept')).toBe(swept);

    const mineAgain = await reorgTip(sent.hex);
    const [reversed] = await movementsOf(sent.txid);
    expect(reversed).toMatchObject({ id: booked?.id, removed: 1 });
    expect(await kinds(booked?.id as string)).toEqual(['movement', 'movement_reversal']);
    expect(await balance('assets:swept')).toBe(0n);
    expect(await balance('expenses:network_fees')).toBe(0n);
    expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });

    await mineAgain();
    const rows = await movementsOf(sent.txid);
    expect(rows.map((r) => r.removed)).toEqual([1, 0]);
    expect(rows[1]?.block_hash).not.toBe(booked?.block_hash);
    expect(await kinds(rows[1]?.id as string)).toEqual(['movement']);
    expect(await balance('assets:swept')).toBe(swept);
    expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
  }, 90_000);

  it('a refund whose block is orphaned goes back to approved and un-refunds the invoice, then completes again once', async () => {
    const approver = await h.keyWithScopes(['admin']);
    const inv = await h.invoice('0.0022');
    await chain.wallet.pay([{ address: inv.address, amount: inv.due + 40_000n }]);
    await chain.wallet.mine(1);
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('overpaid');
    const refund = await h.request('POST', `/v1/invoices/${inv.id}/refunds`, {
      body: { kind: 'excess', destination: chain.wallet.address, reason: 'overpaid' },
    });
    const approved = await h.request('POST', `/v1/refunds/${refund.body.id}/approve`, {
      token: approver,
      body: { reason: 'excess confirmed' },
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    const built = await h.request('POST', `/v1/refunds/${refund.body.id}/transaction`, {
      body: { fee_rate: '2' },
    });
    expect(built.status, JSON.stringify(built.body)).toBe(200);
    const sent = await signAndBroadcast(rpc(), built.body.unsigned_transaction.psbt);
    await chain.wallet.mine(1);
    await h.sync();
    const refundNow = async () => (await h.request('GET', `/v1/refunds/${refund.body.id}`)).body;
    expect(await refundNow()).toMatchObject({ status: 'completed', txid: sent.txid });
    expect(await h.get(inv.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: '0.0004' });
    expect(await balance('clearing:refunds_in_transit')).toBe(0n);
    const count = async (type: string) => (await h.eventTypes(inv.id)).filter((t) => t === type).length;
    expect(await count('refund.completed')).toBe(1);
    const salesRefundsAndOverpayments = async () => [
      await balance('liabilities:overpayments'),
      await balance('revenue:refunds'),
    ];
    const refundedBooks = await salesRefundsAndOverpayments();

    const mineAgain = await reorgTip(sent.hex);
    const [reversed] = await movementsOf(sent.txid);
    expect(reversed).toMatchObject({ removed: 1, refund_id: refund.body.id });
    // The refund awaits its transaction again; the invoice is as it was before the refund.
    expect(await refundNow()).toMatchObject({ status: 'approved', txid: sent.txid, completed_at: null });
    const invoice = await h.get(inv.id);
    expect(invoice).toMatchObject({ status: 'overpaid', refunded_amount: '0' });
    const events = await h.eventTypes(inv.id);
    expect(events.slice(-2)).toEqual(['refund.reverted', 'invoice.overpaid']);
    // Both refund events say which refund, as the refunds API showed it after each change.
    const feed = await h.request('GET', `/v1/events?limit=100&invoice_id=${inv.id}`);
    const refundOf = (type: string) =>
      (feed.body.data as Array<{ type: string; data: { refund?: unknown } }>)
        .filter((e) => e.type === type)
        .map((e) => e.data.refund);
    expect(refundOf('refund.completed')).toMatchObject([
      { id: refund.body.id, status: 'completed', txid: sent.txid, amount: '0.0004' },
    ]);
    expect(refundOf('refund.reverted')).toEqual([await refundNow()]);
    const transitions = (await h.request('GET', `/v1/invoices/${inv.id}/transitions`)).body.data as Array<{
      from: string;
      to: string;
      cause_kind?: string;
      cause?: string;
    }>;
    expect(transitions.at(-1)).toMatchObject({ from: 'partially_refunded', to: 'overpaid' });
    // Books: nothing in transit, the overpayment owed again, no contra-revenue; verify agrees.
    expect(await balance('clearing:refunds_in_transit')).toBe(0n);
    expect(await balance('liabilities:overpayments')).toBe(-40_000n);
    expect(await verified()).toMatchObject({ ok: true, unbalanced: [], mismatched: [] });
    const report = await reconcileBitcoin(
      h.tally,
      new BitcoinNode(rpc(), 'bitcoin-regtest'),
      'bitcoin-regtest',
      {
        fromHeight: (await rpc().call<number>('getblockcount')) - 3,
      },
    );
    expect(report.mismatches.filter((m) => m.kind === 'reconciliation_movement_not_in_chain')).toEqual([
      expect.objectContaining({ invoice_id: inv.id, detail: expect.objectContaining({ txid: sent.txid }) }),
    ]);

    await mineAgain();
    await h.sync();
    const rows = await movementsOf(sent.txid);
    expect(rows.map((r) => [r.removed, r.refund_id])).toEqual([
      [1, refund.body.id],
      [0, refund.body.id],
    ]);
    expect(await refundNow()).toMatchObject({ status: 'completed', txid: sent.txid });
    expect(await h.get(inv.id)).toMatchObject({ status: 'partially_refunded', refunded_amount: '0.0004' });
    expect(await balance('clearing:refunds_in_transit')).toBe(0n);
    expect(await salesRefundsAndOverpayments()).toEqual(refundedBooks);
    expect(await count('refund.completed')).toBe(2);
    expect(await count('refund.reverted')).toBe(1);
    expect(await verified()).toMatchObject({
      ok: true,
      unbalanced: [],
      mismatched: [],
      movements_unbooked: [],
    });
    // Booked again, the refund is in the chain: reconciliation has nothing more to say about it.
    const after = await reconcileBitcoin(
      h.tally,
      new BitcoinNode(rpc(), 'bitcoin-regtest'),
      'bitcoin-regtest',
      {
        fromHeight: (await rpc().call<number>('getblockcount')) - 3,
      },
    );
    expect(after.mismatches.filter((m) => m.kind === 'reconciliation_movement_not_in_chain')).toEqual([]);
    // Another block: the refund completes once, not again.
    await chain.wallet.mine(1);
    await h.sync();
    expect(await count('refund.completed')).toBe(2);
  }, 90_000);
});
