/**
 * Reconciliation against btcd, independent of the watcher: a paid invoice whose block is orphaned
 * while the watcher is not looking, and a deposit the watcher never scanned (its cursor was
 * restarted past the block), both become exceptions with evidence, once; every run leaves a report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitcoinNode } from '../../src/chains/bitcoin/bitcoin-node.ts';
import { BitcoinWatcher } from '../../src/chains/bitcoin/bitcoin-watcher.ts';
import { reconcileBitcoin } from '../../src/reconciliation/reconcile-bitcoin.ts';
import { type BitcoinHarness, bitcoinHarness, startChain } from '../helpers/bitcoin-e2e.ts';
import type { TestWallet } from '../helpers/btc-wallet.ts';
import type { Btcd } from '../helpers/btcd.ts';
import { DATABASES } from '../helpers/databases.ts';

let chain: { node: Btcd; wallet: TestWallet };
beforeAll(async () => {
  chain = await startChain();
}, 120_000);
afterAll(async () => chain?.node.stop());

describe.each(DATABASES)('reconciliation against btcd ($name)', ({ fresh }) => {
  let h: BitcoinHarness;
  const node = () => new BitcoinNode(chain.node.rpc, 'bitcoin-regtest');
  const height = () => chain.node.rpc.call<number>('getblockcount');
  beforeAll(async () => {
    h = await bitcoinHarness(await fresh(), chain.node);
  }, 60_000);
  afterAll(async () => h?.close());

  it('a clean chain: every payment found as recorded, no exception, a stored report', async () => {
    const inv = await h.invoice('0.0005');
    await chain.wallet.pay([{ address: inv.address, amount: inv.due }]);
    await chain.wallet.mine(1);
    await h.sync();
    const report = await reconcileBitcoin(h.tally, node(), 'bitcoin-regtest', {
      fromHeight: (await height()) - 3,
    });
    expect(report.mismatches).toEqual([]);
    expect(report.checked.payments).toBeGreaterThanOrEqual(1);
    expect(report.checked.outputs_to_invoice_addresses).toBeGreaterThanOrEqual(1);
    expect(report.ledger_ok).toBe(true);
    const stored = await h.tally.database.db
      .selectFrom('reconciliation_runs')
      .selectAll()
      .where('id', '=', report.id)
      .execute();
    expect(stored).toHaveLength(1);
  }, 60_000);

  it('finds a paid invoice whose block a reorg removed before the watcher looked', async () => {
    const inv = await h.invoice('0.0006');
    await chain.wallet.pay([{ address: inv.address, amount: inv.due }]);
    const [mined] = await chain.wallet.mine(1);
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('paid');
    await chain.node.rpc.call('invalidateblock', [mined]);
    try {
      const report = await reconcileBitcoin(h.tally, node(), 'bitcoin-regtest', {
        fromHeight: (await height()) - 2,
      });
      const found = report.mismatches.filter((m) => m.invoice_id === inv.id);
      expect(found).toEqual([
        expect.objectContaining({
          kind: 'reconciliation_payment_not_in_chain',
          detail: expect.objectContaining({ block_hash: mined }),
        }),
      ]);
      const exceptions = await h.exceptions(inv.id);
      expect(exceptions.map((e) => e.kind)).toEqual(['reconciliation_payment_not_in_chain']);
      expect(await h.eventTypes(inv.id)).toContain('exception.opened');
      // A second run finds it again but does not open a second exception.
      const again = await reconcileBitcoin(h.tally, node(), 'bitcoin-regtest', {
        fromHeight: (await height()) - 2,
      });
      expect(again.mismatches.some((m) => m.invoice_id === inv.id)).toBe(true);
      expect(again.exceptions_opened).toBe(0);
    } finally {
      await chain.node.rpc.call('reconsiderblock', [mined]);
    }
    await h.sync();
  }, 60_000);

  it('finds a deposit to an invoice address that the watcher never scanned', async () => {
    const inv = await h.invoice('0.0007');
    const paid = await chain.wallet.pay([{ address: inv.address, amount: inv.due }]);
    await chain.wallet.mine(1);
    const depositHeight = await height();
    await chain.wallet.mine(1);
    // The operator restarts the watcher on a fresh cursor with a start height past the deposit
    // (TALLY_BITCOIN_START_HEIGHT set too high): that block is never read.
    await h.watcher.stop();
    await h.tally.database.db.deleteFrom('chain_blocks').where('network', '=', 'bitcoin-regtest').execute();
    const late = new BitcoinWatcher(h.tally, {
      network: 'bitcoin-regtest',
      node: node(),
      pollIntervalMs: 50,
      droppedAfterMs: 3_600_000,
      startHeight: depositHeight + 1,
    });
    await late.pollOnce();
    expect((await h.get(inv.id)).status).toBe('awaiting_payment');

    const report = await reconcileBitcoin(h.tally, node(), 'bitcoin-regtest', {
      fromHeight: depositHeight - 1,
    });
    expect(report.mismatches.filter((m) => m.invoice_id === inv.id)).toEqual([
      {
        kind: 'reconciliation_unrecorded_deposit',
        invoice_id: inv.id,
        payment_id: null,
        detail: expect.objectContaining({
          txid: paid.txid,
          amount: String(inv.due),
          block_height: depositHeight,
        }),
      },
    ]);
    expect((await h.exceptions(inv.id)).map((e) => e.kind)).toEqual(['reconciliation_unrecorded_deposit']);
  }, 60_000);
});
