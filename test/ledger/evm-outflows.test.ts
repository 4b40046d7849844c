/**
 * Outflows from EVM invoice addresses that are not plain sweeps, against anvil (chain id 137, test
 * USDC at Polygon's USDC address), on both databases. The invoice address sends through anvil's
 * impersonation (the test needs transfers Tally did not build: other amounts, reverting calls);
 * the watcher and the refund job must still leave every outflow booked exactly once.
 */
import { encodeFunctionData, erc20Abi, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_ACCOUNTS } from '../../src/dev/evm-tools.ts';
import { checkEvmRefunds } from '../../src/refunds/evm-refund-watch.ts';
import { settlePendingOutflows } from '../../src/settlement/settle-pending-outflows.ts';
import { DATABASES } from '../helpers/databases.ts';
import { type EvmChain, type EvmHarness, evmHarness } from '../helpers/evm-e2e.ts';
import {
  evmMoneyMerchant,
  ledgerBalance,
  ledgerVerify,
  payPolygonInvoice,
  startPolygonWithUsdc,
} from '../helpers/evm-money.ts';

let polygon: EvmChain;
beforeAll(async () => {
  polygon = await startPolygonWithUsdc();
}, 60_000);
afterAll(async () => polygon?.stop());

type Receipt = { status: string; blockHash: string; blockNumber: Hex; gasUsed: Hex; effectiveGasPrice: Hex };

/**
 * Sends from an invoice address (impersonated: no key needed) with a fixed gas limit, so a call
 * that reverts is still mined, and waits for its receipt, whatever its status.
 */
async function sendFrom(from: string, tx: { to: string; data?: Hex; value?: bigint; gas?: bigint }) {
  await polygon.rpc.call('anvil_impersonateAccount', [from]);
  const hash = await polygon.rpc.call<Hex>('eth_sendTransaction', [
    {
      from,
      to: tx.to,
      gas: `0x${(tx.gas ?? 100_000n).toString(16)}`,
      ...(tx.data ? { data: tx.data } : {}),
      ...(tx.value !== undefined ? { value: `0x${tx.value.toString(16)}` } : {}),
    },
  ]);
  for (let i = 0; i < 200; i++) {
    const receipt = await polygon.rpc.call<Receipt | null>('eth_getTransactionReceipt', [hash]);
    if (receipt) return { hash, receipt, gas: BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice) };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('not mined');
}
const COLD = '0x000000000000000000000000000000000000c01d';
const usdcTransfer = (to: string, amount: bigint) =>
  encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [to as Hex, amount] });
/** The invoice address sends USDC to the customer (the refunds' destination) itself, through anvil. */
const sendUsdcToCustomer = (from: string, amount: bigint) =>
  sendFrom(from, { to: polygon.tokens.USDC as string, data: usdcTransfer(DEV_ACCOUNTS.other, amount) });

describe.each(DATABASES.map((d, i) => ({ ...d, leg: i + 21 })))(
  'EVM outflows against anvil ($name)',
  ({ fresh, leg }) => {
    let h: EvmHarness;
    let token: string;
    let approver: string;
    beforeAll(async () => {
      h = await evmHarness(await fresh(), [polygon]);
      ({ token, approver } = await evmMoneyMerchant(h, polygon, leg, `EVM outflows ${leg}`));
    }, 60_000);
    afterAll(async () => h?.close());

    const paid = (asset: 'USDC' | 'POL', extra = 0n) => payPolygonInvoice(h, polygon, token, asset, extra);
    /** A refund requested, approved (four eyes) and built, so the chain may now carry it. */
    const builtRefund = async (invoiceId: string, body: Record<string, unknown>) => {
      const asked = await h.request('POST', `/v1/invoices/${invoiceId}/refunds`, {
        token,
        body: { destination: DEV_ACCOUNTS.other, reason: 'customer asked', ...body },
      });
      expect(asked.status, JSON.stringify(asked.body)).toBe(201);
      await h.request('POST', `/v1/refunds/${asked.body.id}/approve`, {
        token: approver,
        body: { reason: 'approved' },
      });
      const built = await h.request('POST', `/v1/refunds/${asked.body.id}/transaction`, { token, body: {} });
      expect(built.status, JSON.stringify(built.body)).toBe(200);
      return { id: asked.body.id as string, tx: built.body.unsigned_transaction };
    };
    const refundStatus = async (id: string) =>
      (await h.request('GET', `/v1/refunds/${id}`, { token })).body.status as string;
    const movementsOf = (txid: string) =>
      h.tally.database.db
        .selectFrom('settlement_movements')
        .selectAll()
        .where('txid', '=', txid)
        .where('removed', '=', 0)
        .orderBy('log_index')
        .execute();
    const balance = (account: string, asset: string) => ledgerBalance(h, token, account, asset);
    const verified = () => ledgerVerify(h, token);
    const gasFor = (address: string) =>
      polygon.rpc.call('anvil_setBalance', [address, `0x${(10n ** 17n).toString(16)}`]);

    it('a refund transfer above the amount owed is not the refund: booked when mined, the refund stays approved', async () => {
      const inv = await paid('USDC', 2_000_000n);
      const refund = await builtRefund(inv.id, { kind: 'excess' });
      await gasFor(inv.address);
      // 3 USDC to the refund's destination, which is owed 2: as on Bitcoin, not this refund.
      const sent = await sendUsdcToCustomer(inv.address, 3_000_000n);
      expect(sent.receipt.status).toBe('0x1');
      await h.sync();
      const [m, ...more] = await movementsOf(sent.hash);
      expect(more).toHaveLength(0);
      expect(m).toMatchObject({ refund_id: null, refunded: '0', swept: '3000000', inputs_value: '3000000' });
      await polygon.mine(64);
      expect(await checkEvmRefunds(h.tally, 'polygon', polygon.rpc)).toEqual([]);
      expect(await refundStatus(refund.id)).toBe('approved');
      expect(await balance('clearing:refunds_in_transit', 'USDC')).toBe(0n);
      expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
    }, 90_000);

    it('a reverted transaction from an invoice address books its gas as a fee-only movement', async () => {
      const inv = await paid('POL');
      // POL sent to the token contract, which takes none (no payable function): mined, reverted.
      const sent = await sendFrom(inv.address, {
        to: polygon.tokens.USDC as string,
        data: usdcTransfer(DEV_ACCOUNTS.other, 1n),
        value: 10n ** 17n,
      });
      expect(sent.receipt.status).toBe('0x0');
      expect(sent.gas).toBeGreaterThan(0n);
      await h.sync();
      const [m, ...more] = await movementsOf(sent.hash);
      expect(more).toHaveLength(0);
      expect(m).toMatchObject({
        asset: 'POL',
        log_index: -1,
        refund_id: null,
        refunded: '0',
        swept: '0',
        fee: String(sent.gas),
        inputs_value: String(sent.gas),
        block_hash: sent.receipt.blockHash,
      });
      // The books keep at the address exactly what the chain keeps: the payment minus the gas.
      const onChain = BigInt(await polygon.rpc.call<string>('eth_getBalance', [inv.address, 'latest']));
      expect(onChain).toBe(inv.due - sent.gas);
      expect(await balance('assets:invoice_addresses', 'POL')).toBe(onChain);
      expect(await balance('expenses:network_fees', 'POL')).toBe(sent.gas);
      expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
      // Seen again after more blocks: booked once.
      await polygon.mine(2);
      await h.sync();
      expect(await movementsOf(sent.hash)).toHaveLength(1);
    }, 90_000);

    it('two partial outflows of one payment each draw their own part of it, first in first out', async () => {
      const inv = await paid('POL');
      const inputsOf = (movementId: string) =>
        h.tally.database.db
          .selectFrom('settlement_movement_inputs')
          .select(['payment_id', 'invoice_id', 'amount'])
          .where('movement_id', '=', movementId)
          .execute();
      const half = inv.due / 2n;
      const first = await sendFrom(inv.address, { to: COLD, value: half, gas: 21_000n });
      await h.sync();
      const second = await sendFrom(inv.address, { to: COLD, value: (inv.due * 49n) / 100n, gas: 21_000n });
      await h.sync();
      const [m1] = await movementsOf(first.hash);
      const [m2] = await movementsOf(second.hash);
      const in1 = await inputsOf(m1?.id as string);
      const in2 = await inputsOf(m2?.id as string);
      expect(in1).toEqual([
        { payment_id: expect.any(String), invoice_id: inv.id, amount: String(half + first.gas) },
      ]);
      expect(in2).toEqual([
        {
          payment_id: in1[0]?.payment_id,
          invoice_id: inv.id,
          amount: String((inv.due * 49n) / 100n + second.gas),
        },
      ]);
      // What is left undrawn of the payment is what the chain still holds at the address.
      const onChain = BigInt(await polygon.rpc.call<string>('eth_getBalance', [inv.address, 'latest']));
      expect(inv.due - BigInt(in1[0]?.amount ?? 0) - BigInt(in2[0]?.amount ?? 0)).toBe(onChain);
      expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
    }, 90_000);

    const pendingOf = (txid: string) =>
      h.tally.database.db.selectFrom('evm_pending_outflows').selectAll().where('txid', '=', txid).execute();

    it('two refunds of one amount to one destination each complete from their own transfer', async () => {
      const inv = await paid('USDC');
      const r1 = await builtRefund(inv.id, { kind: 'partial', amount: '5' });
      const r2 = await builtRefund(inv.id, { kind: 'partial', amount: '5' });
      await gasFor(inv.address);
      const l1 = await sendUsdcToCustomer(inv.address, 5_000_000n);
      const l2 = await sendUsdcToCustomer(inv.address, 5_000_000n);
      await h.sync();
      // Both left to the refund job, and remembered until booked.
      expect(await movementsOf(l1.hash)).toHaveLength(0);
      expect(await movementsOf(l2.hash)).toHaveLength(0);
      expect(await pendingOf(l1.hash)).toHaveLength(1);
      expect(await pendingOf(l2.hash)).toHaveLength(1);
      await polygon.mine(64);
      expect((await checkEvmRefunds(h.tally, 'polygon', polygon.rpc)).sort()).toEqual([r1.id, r2.id].sort());
      const [m1] = await movementsOf(l1.hash);
      const [m2] = await movementsOf(l2.hash);
      expect([m1?.refund_id, m2?.refund_id].sort()).toEqual([r1.id, r2.id].sort());
      expect(m1).toMatchObject({ refunded: '5000000', swept: '0' });
      expect(m2).toMatchObject({ refunded: '5000000', swept: '0' });
      expect(await pendingOf(l1.hash)).toHaveLength(0);
      expect(await pendingOf(l2.hash)).toHaveLength(0);
      expect((await h.request('GET', `/v1/invoices/${inv.id}`, { token })).body.status).toBe('refunded');
      expect(await balance('clearing:refunds_in_transit', 'USDC')).toBe(0n);
      expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
    }, 90_000);

    it('a refund cancelled before its transfer is mined: the transfer is a sweep, booked when mined', async () => {
      const inv = await paid('USDC', 2_000_000n);
      const refund = await builtRefund(inv.id, { kind: 'excess' });
      await gasFor(inv.address);
      const cancelled = await h.request('POST', `/v1/refunds/${refund.id}/cancel`, { token });
      expect(cancelled.body.status).toBe('cancelled');
      // The merchant signs the cancelled refund's transaction anyway: money to someone, not a refund.
      const sent = await sendUsdcToCustomer(inv.address, 2_000_000n);
      await h.sync();
      expect(await pendingOf(sent.hash)).toHaveLength(0);
      const [m, ...more] = await movementsOf(sent.hash);
      expect(more).toHaveLength(0);
      expect(m).toMatchObject({ refund_id: null, refunded: '0', swept: '2000000', inputs_value: '2000000' });
      // The job and the watcher polling on: booked once.
      await polygon.mine(64);
      expect(await checkEvmRefunds(h.tally, 'polygon', polygon.rpc)).toEqual([]);
      await h.sync();
      expect(await movementsOf(sent.hash)).toHaveLength(1);
      expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
    }, 90_000);

    it('a refund whose transfer is mined cannot be cancelled: it completes from that transfer', async () => {
      const inv = await paid('USDC', 2_000_000n);
      const refund = await builtRefund(inv.id, { kind: 'excess' });
      await gasFor(inv.address);
      const sent = await sendUsdcToCustomer(inv.address, 2_000_000n);
      await h.sync();
      expect(await pendingOf(sent.hash)).toHaveLength(1);
      const refused = await h.request('POST', `/v1/refunds/${refund.id}/cancel`, { token });
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('refund_in_flight');
      expect(refused.body.error.message).toContain(sent.hash);
      expect(await refundStatus(refund.id)).toBe('approved');
      await polygon.mine(64);
      expect(await checkEvmRefunds(h.tally, 'polygon', polygon.rpc)).toEqual([refund.id]);
      const [m, ...more] = await movementsOf(sent.hash);
      expect(more).toHaveLength(0);
      expect(m).toMatchObject({ refund_id: refund.id, refunded: '2000000', swept: '0' });
      expect(await pendingOf(sent.hash)).toHaveLength(0);
      expect(await balance('clearing:refunds_in_transit', 'USDC')).toBe(0n);
      expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
    }, 90_000);

    it('a refund rebuilt after its first transfer was mined still completes from that transfer', async () => {
      const inv = await paid('USDC', 2_000_000n);
      const refund = await builtRefund(inv.id, { kind: 'excess' });
      await gasFor(inv.address);
      const sent = await sendUsdcToCustomer(inv.address, 2_000_000n);
      await h.sync();
      await polygon.mine(2);
      const rebuilt = await h.request('POST', `/v1/refunds/${refund.id}/transaction`, { token, body: {} });
      expect(rebuilt.status, JSON.stringify(rebuilt.body)).toBe(200);
      await polygon.mine(64);
      expect(await checkEvmRefunds(h.tally, 'polygon', polygon.rpc)).toEqual([refund.id]);
      const [m, ...more] = await movementsOf(sent.hash);
      expect(more).toHaveLength(0);
      expect(m).toMatchObject({ refund_id: refund.id, refunded: '2000000', swept: '0' });
      expect(await pendingOf(sent.hash)).toHaveLength(0);
      expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
    }, 90_000);

    it('a native refund whose hash nobody reported completes from the transfer the watcher saw', async () => {
      const inv = await paid('POL');
      const refund = await builtRefund(inv.id, { kind: 'full' });
      const sent = await sendFrom(inv.address, {
        to: DEV_ACCOUNTS.other,
        value: BigInt(refund.tx.value),
        gas: BigInt(refund.tx.gas),
      });
      expect(sent.receipt.status).toBe('0x1');
      await h.sync();
      expect(await movementsOf(sent.hash)).toHaveLength(0);
      expect(await pendingOf(sent.hash)).toHaveLength(1);
      await polygon.mine(64);
      expect(await checkEvmRefunds(h.tally, 'polygon', polygon.rpc)).toEqual([refund.id]);
      expect((await h.request('GET', `/v1/refunds/${refund.id}`, { token })).body).toMatchObject({
        status: 'completed',
        txid: sent.hash,
      });
      const [m] = await movementsOf(sent.hash);
      expect(m).toMatchObject({ refund_id: refund.id, fee: String(sent.gas), swept: '0' });
      expect(await pendingOf(sent.hash)).toHaveLength(0);
      expect((await h.request('GET', `/v1/invoices/${inv.id}`, { token })).body.status).toBe('refunded');
      expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
    }, 90_000);

    it('a native refund without a reported hash never takes the transaction reported for another', async () => {
      const inv = await paid('POL');
      const r1 = await builtRefund(inv.id, { kind: 'partial', amount: '0.1' });
      const r2 = await builtRefund(inv.id, { kind: 'partial', amount: '0.1' });
      const tenth = 10n ** 17n;
      const sendTenth = () => sendFrom(inv.address, { to: DEV_ACCOUNTS.other, value: tenth, gas: 21_000n });
      const t = await sendTenth();
      const reported = await h.request('POST', `/v1/refunds/${r2.id}/transaction-hash`, {
        token,
        body: { txid: t.hash },
      });
      expect(reported.status, JSON.stringify(reported.body)).toBe(200);
      await h.sync();
      await polygon.mine(64);
      // T is r2's: r1, which matches it on chain as well, must not take it.
      expect(await checkEvmRefunds(h.tally, 'polygon', polygon.rpc)).toEqual([r2.id]);
      expect(await refundStatus(r1.id)).toBe('approved');
      expect((await movementsOf(t.hash))[0]).toMatchObject({ refund_id: r2.id, swept: '0' });
      // r1's own transfer then completes r1, not a sweep.
      const u = await sendTenth();
      await h.sync();
      await polygon.mine(64);
      expect(await checkEvmRefunds(h.tally, 'polygon', polygon.rpc)).toEqual([r1.id]);
      expect((await movementsOf(u.hash))[0]).toMatchObject({ refund_id: r1.id, swept: '0' });
      expect(await pendingOf(t.hash)).toHaveLength(0);
      expect(await pendingOf(u.hash)).toHaveLength(0);
      expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
    }, 90_000);

    it('a pending transfer whose row changed meanwhile is not booked from the stale copy', async () => {
      const inv = await paid('USDC', 4_000_000n);
      const refund = await builtRefund(inv.id, { kind: 'partial', amount: '2' });
      await gasFor(inv.address);
      const l1 = await sendUsdcToCustomer(inv.address, 2_000_000n);
      const l2 = await sendUsdcToCustomer(inv.address, 2_000_000n);
      await h.sync();
      const b1 = Number(BigInt(l1.receipt.blockNumber));
      const b2 = Number(BigInt(l2.receipt.blockNumber));
      expect(b2).toBeGreaterThan(b1);
      // Final up to l1's block only: the refund completes from l1, l2 (now no refund's) stays pending.
      const tip = Number(BigInt(await polygon.rpc.call<Hex>('eth_blockNumber')));
      await polygon.mine(b1 + 63 - tip);
      expect(await checkEvmRefunds(h.tally, 'polygon', polygon.rpc)).toEqual([refund.id]);
      const [before] = await pendingOf(l2.hash);
      expect(before).toBeDefined();
      // Between the settler's read and its write, the row changes: l2's block rolled back and the
      // transfer seen again in a later block, not final.
      const db = h.tally.database;
      const write = db.write;
      let changed = false;
      db.write = async (unit) => {
        if (!changed) {
          changed = true;
          await h.tally.database.db
            .updateTable('evm_pending_outflows')
            .set({ block_hash: `0x${'ab'.repeat(32)}`, block_height: b2 + 100 })
            .where('txid', '=', l2.hash)
            .execute();
        }
        return write(unit);
      };
      try {
        expect(await settlePendingOutflows(h.tally, 'polygon', BigInt(b2))).toBe(0);
      } finally {
        db.write = write;
      }
      expect(changed).toBe(true);
      expect(await movementsOf(l2.hash)).toHaveLength(0);
      // Back as it was (its real block), l2 is booked, as the sweep it is, once.
      await h.tally.database.db
        .updateTable('evm_pending_outflows')
        .set({ block_hash: before?.block_hash as string, block_height: before?.block_height as number })
        .where('txid', '=', l2.hash)
        .execute();
      expect(await settlePendingOutflows(h.tally, 'polygon', BigInt(b2))).toBe(1);
      expect((await movementsOf(l2.hash))[0]).toMatchObject({
        refund_id: null,
        swept: '2000000',
        block_hash: l2.receipt.blockHash,
      });
      expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
    }, 90_000);

    it('a transfer the refund job booked before the watcher saw it leaves no pending row', async () => {
      const inv = await paid('POL');
      const a = await builtRefund(inv.id, { kind: 'partial', amount: '0.1' });
      const b = await builtRefund(inv.id, { kind: 'partial', amount: '0.1' });
      // The later id reports the hash: the watcher asks the earlier (still approved, matching) first.
      const [first, later] = [a.id, b.id].sort();
      const t = await sendFrom(inv.address, { to: DEV_ACCOUNTS.other, value: 10n ** 17n, gas: 21_000n });
      const reported = await h.request('POST', `/v1/refunds/${later}/transaction-hash`, {
        token,
        body: { txid: t.hash },
      });
      expect(reported.status, JSON.stringify(reported.body)).toBe(200);
      // The job sees it final before the watcher has seen it at all.
      await polygon.mine(64);
      expect(await checkEvmRefunds(h.tally, 'polygon', polygon.rpc)).toEqual([later]);
      await h.sync();
      expect(await pendingOf(t.hash)).toHaveLength(0);
      const [m, ...more] = await movementsOf(t.hash);
      expect(more).toHaveLength(0);
      expect(m).toMatchObject({ refund_id: later, swept: '0' });
      expect(await refundStatus(first as string)).toBe('approved');
      expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
    }, 90_000);

    it('a reorg that drops a block forgets the transfers in it left to the refund job', async () => {
      const inv = await paid('USDC', 2_000_000n);
      await builtRefund(inv.id, { kind: 'excess' });
      await gasFor(inv.address);
      const sent = await sendUsdcToCustomer(inv.address, 2_000_000n);
      await h.sync();
      expect(await pendingOf(sent.hash)).toHaveLength(1);
      const tip = Number(BigInt(await polygon.rpc.call<Hex>('eth_blockNumber')));
      await polygon.rpc.call('anvil_reorg', [tip - Number(BigInt(sent.receipt.blockNumber)) + 1, []]);
      await h.sync();
      expect(await pendingOf(sent.hash)).toHaveLength(0);
      expect(await movementsOf(sent.hash)).toHaveLength(0);
    }, 90_000);
  },
);
