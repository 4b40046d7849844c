/**
 * EVM outgoing movements against anvil (chain id 137, test USDC at Polygon's USDC address), on both
 * databases: invoices paid in USDC and in POL are swept with the sweep builder, signed with the
 * merchant's key (m/44'/60'/<leg>'/0/<index>; Tally holds only the xpub), broadcast and mined; the
 * EVM watcher books each as a movement (amount, gas fee, tx hash, log index) with balanced ledger
 * entries, linked to the payments it swept, and settlement batches and the report carry them. A
 * reorg of a sweep's block reverses its movement (a reversing ledger transaction, the movement
 * flagged removed); mined again, it is a new movement. A refund's transfer is left to the refund
 * job and booked once.
 */

import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_ACCOUNTS } from '../../src/dev/evm-tools.ts';
import { checkEvmRefunds } from '../../src/refunds/evm-refund-watch.ts';
import { closeSettlementBatches } from '../../src/settlement/batches.ts';
import { buildEvmSweep } from '../../src/settlement/sweep-evm.ts';
import { DATABASES } from '../helpers/databases.ts';
import { type EvmChain, type EvmHarness, evmHarness } from '../helpers/evm-e2e.ts';
import {
  evmMoneyMerchant,
  ledgerBalance,
  ledgerVerify,
  payPolygonInvoice,
  signAsMerchant,
  startPolygonWithUsdc,
} from '../helpers/evm-money.ts';

const COLD = '0x000000000000000000000000000000000000c01d';

let polygon: EvmChain;
beforeAll(async () => {
  polygon = await startPolygonWithUsdc();
}, 60_000);
afterAll(async () => polygon?.stop());

type Receipt = {
  status: string;
  blockHash: string;
  gasUsed: Hex;
  effectiveGasPrice: Hex;
  logs: Array<{ logIndex: Hex; topics: string[] }>;
};

/** Signs as the merchant's wallet would, broadcasts, and waits for the (automined) receipt. */
async function signAndSend(unsigned: Hex, leg: number, index: number) {
  const sent = await signAsMerchant<Receipt>(polygon, unsigned, leg, index);
  expect(sent.receipt.status).toBe('0x1');
  return sent;
}

describe.each(DATABASES.map((d, i) => ({ ...d, leg: i + 11 })))(
  'EVM outgoing movements against anvil ($name)',
  ({ fresh, leg }) => {
    let h: EvmHarness;
    let token: string;
    let approver: string;
    let merchantId: string;
    beforeAll(async () => {
      h = await evmHarness(await fresh(), [polygon]);
      ({ merchantId, token, approver } = await evmMoneyMerchant(h, polygon, leg, `EVM sweeps ${leg}`));
    }, 60_000);
    afterAll(async () => h?.close());

    const paid = (asset: 'USDC' | 'POL', extra = 0n) => payPolygonInvoice(h, polygon, token, asset, extra);
    const sweepOf = async (address: string) => {
      const sweep = await buildEvmSweep(h.tally, merchantId, { network: 'polygon', destination: COLD });
      const t = sweep.transfers.find((x) => x.from.toLowerCase() === address.toLowerCase());
      if (!t) throw new Error(`no sweep transfer from ${address}`);
      return t;
    };
    const movementsOf = (txid: string) =>
      h.tally.database.db
        .selectFrom('settlement_movements')
        .selectAll()
        .where('txid', '=', txid)
        .orderBy('id')
        .execute();
    const inputsOf = (movementId: string) =>
      h.tally.database.db
        .selectFrom('settlement_movement_inputs')
        .selectAll()
        .where('movement_id', '=', movementId)
        .execute();
    const balance = (account: string, asset: string) => ledgerBalance(h, token, account, asset);
    const verified = () => ledgerVerify(h, token);

    let usdcSweepTx = '';
    let polSweepTx = '';
    let usdcInvoice: Awaited<ReturnType<typeof paid>>;
    let polInvoice: Awaited<ReturnType<typeof paid>>;

    it('a USDC sweep is booked as a movement when mined: amount, tx hash, log index, ledger, inputs', async () => {
      usdcInvoice = await paid('USDC');
      expect(usdcInvoice.status).toBe('paid');
      const t = await sweepOf(usdcInvoice.address);
      // The token transfer's gas is topped up from outside the books (gas_shortfall).
      await polygon.rpc.call('anvil_setBalance', [
        usdcInvoice.address,
        `0x${BigInt(t.transaction.gas_needed).toString(16)}`,
      ]);
      const sent = await signAndSend(t.transaction.unsigned as Hex, leg, usdcInvoice.index);
      usdcSweepTx = sent.hash;
      expect(await movementsOf(sent.hash)).toHaveLength(0);
      await h.sync();
      const [m] = await movementsOf(sent.hash);
      expect(m).toMatchObject({
        merchant_id: merchantId,
        network: 'polygon',
        asset: 'USDC',
        log_index: Number(BigInt(sent.receipt.logs[0]?.logIndex ?? '0x0')),
        block_hash: sent.receipt.blockHash,
        removed: 0,
        refund_id: null,
        batch_id: null,
      });
      expect(BigInt(m?.inputs_value ?? -1)).toBe(usdcInvoice.due);
      expect(BigInt(m?.swept ?? -1)).toBe(usdcInvoice.due);
      expect(BigInt(m?.fee ?? -1)).toBe(0n); // gas is POL from outside the books, not booked
      expect(BigInt(m?.refunded ?? -1)).toBe(0n);
      const inputs = await inputsOf(m?.id as string);
      expect(inputs).toHaveLength(1);
      expect(inputs[0]?.invoice_id).toBe(usdcInvoice.id);
      expect(await balance('assets:swept', 'USDC')).toBe(usdcInvoice.due);
      expect(await balance('assets:invoice_addresses', 'USDC')).toBe(0n);
      expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
      // Polled again (and the block again after more blocks): booked once.
      await polygon.mine(2);
      await h.sync();
      expect(await movementsOf(sent.hash)).toHaveLength(1);
    }, 60_000);

    it('the same signed sweep mined again in the new branch is a new movement; the reversed one stays', async () => {
      const [before] = await movementsOf(usdcSweepTx);
      // Re-send the USDC sweep's exact signed bytes in the replacement branch.
      const tx = await polygon.rpc.call<{ blockNumber: Hex }>('eth_getTransactionByHash', [usdcSweepTx]);
      const tip = await polygon.rpc.call<Hex>('eth_blockNumber');
      const depth = Number(BigInt(tip)) - Number(BigInt(tx.blockNumber)) + 1;
      const raw = await polygon.rpc.call<Hex>('eth_getRawTransactionByHash', [usdcSweepTx]);
      await polygon.rpc.call('anvil_reorg', [depth, [[raw, 1]]]);
      await h.sync();
      const rows = await movementsOf(usdcSweepTx);
      expect(rows).toHaveLength(2);
      const old = rows.find((r) => r.id === before?.id);
      const renewed = rows.find((r) => r.id !== before?.id);
      expect(old).toMatchObject({ removed: 1 });
      expect(renewed).toMatchObject({ removed: 0, log_index: before?.log_index, asset: 'USDC' });
      expect(renewed?.block_hash).not.toBe(before?.block_hash);
      expect(BigInt(renewed?.swept ?? -1)).toBe(usdcInvoice.due);
      expect(await balance('assets:swept', 'USDC')).toBe(usdcInvoice.due);
      expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
    }, 60_000);

    it('a POL sweep is booked with its gas as the movement fee', async () => {
      polInvoice = await paid('POL');
      expect(polInvoice.status).toBe('paid');
      const t = await sweepOf(polInvoice.address);
      expect(t.asset).toBe('POL');
      const sent = await signAndSend(t.transaction.unsigned as Hex, leg, polInvoice.index);
      polSweepTx = sent.hash;
      await h.sync();
      const gas = BigInt(sent.receipt.gasUsed) * BigInt(sent.receipt.effectiveGasPrice);
      expect(gas).toBeGreaterThan(0n);
      const [m] = await movementsOf(sent.hash);
      expect(m).toMatchObject({
        asset: 'POL',
        log_index: -1,
        removed: 0,
        block_hash: sent.receipt.blockHash,
      });
      const value = BigInt(t.transaction.value);
      expect(BigInt(m?.swept ?? -1)).toBe(value);
      expect(BigInt(m?.fee ?? -1)).toBe(gas);
      expect(BigInt(m?.inputs_value ?? -1)).toBe(value + gas);
      expect((await inputsOf(m?.id as string))[0]?.invoice_id).toBe(polInvoice.id);
      expect(await balance('assets:swept', 'POL')).toBe(value);
      expect(await balance('expenses:network_fees', 'POL')).toBe(gas);
      // What the books leave at the address is what the chain leaves there (the unused gas allowance).
      const onChain = BigInt(
        await polygon.rpc.call<string>('eth_getBalance', [polInvoice.address, 'latest']),
      );
      expect(await balance('assets:invoice_addresses', 'POL')).toBe(onChain);
      expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
    }, 60_000);

    it('a reorg of the sweep block reverses the movement; mined again, it is booked again', async () => {
      const [before] = await movementsOf(polSweepTx);
      const raw = await polygon.rpc.call<{ hash: string } | null>('eth_getTransactionByHash', [polSweepTx]);
      expect(raw).not.toBeNull();
      // The sweep block and the two after it are replaced by empty blocks: the sweep is gone.
      const block = await polygon.rpc.call<{ number: Hex }>('eth_getBlockByNumber', ['latest', false]);
      const depth = Number(BigInt(block.number)) - (before?.block_height ?? 0) + 1;
      await polygon.rpc.call('anvil_reorg', [depth, []]);
      await h.sync();
      const [reversed, ...none] = await movementsOf(polSweepTx);
      expect(none).toHaveLength(0);
      expect(reversed).toMatchObject({ id: before?.id, removed: 1, block_hash: before?.block_hash });
      expect(reversed?.removed_at).not.toBeNull();
      // Append-only: the booking stays, a reversal with the opposite entries follows it.
      const ltx = await h.tally.database.db
        .selectFrom('ledger_transactions')
        .select(['kind', 'cause'])
        .where('movement_id', '=', before?.id as string)
        .orderBy('id')
        .execute();
      expect(ltx.map((t) => t.kind)).toEqual(['movement', 'movement_reversal']);
      expect(await balance('assets:swept', 'POL')).toBe(0n);
      expect(await balance('expenses:network_fees', 'POL')).toBe(0n);
      expect(await balance('assets:invoice_addresses', 'POL')).toBe(polInvoice.due);
      expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
      // The payment is unspent again: the sweep builder offers it anew, and it is swept again.
      const again = await sweepOf(polInvoice.address);
      const resent = await signAndSend(again.transaction.unsigned as Hex, leg, polInvoice.index);
      polSweepTx = resent.hash;
      await h.sync();
      // Built from the same state, the new sweep may be byte for byte the old one (same hash).
      const [m, ...more] = (await movementsOf(resent.hash)).filter((r) => r.removed === 0);
      expect(more).toHaveLength(0);
      expect(m).toMatchObject({ removed: 0, block_hash: resent.receipt.blockHash });
      expect((await inputsOf(m?.id as string))[0]?.invoice_id).toBe(polInvoice.id);
      expect(await verified()).toMatchObject({ ok: true });
    }, 60_000);

    it('settlement batches and the report carry the live EVM movements, not the reversed ones', async () => {
      const cutoff = new Date(h.clock.now().getTime() + 86_400_000);
      const batches = await closeSettlementBatches(h.tally, cutoff);
      const mine = batches.find((b) => b.merchant_id === merchantId);
      expect(mine?.movements).toBe(2); // the live USDC and POL sweeps
      const batch = await h.tally.database.db
        .selectFrom('settlement_batches')
        .selectAll()
        .where('id', '=', mine?.id as string)
        .executeTakeFirstOrThrow();
      const totals = JSON.parse(batch.totals);
      expect(totals['USDC/polygon']).toMatchObject({ swept: String(usdcInvoice.due), fees: '0' });
      const [polMovement] = (await movementsOf(polSweepTx)).filter((m) => m.removed === 0);
      expect(totals['POL/polygon']).toMatchObject({ swept: polMovement?.swept, fees: polMovement?.fee });
      // Closed twice, batched once; reversed movements are never batched.
      expect((await closeSettlementBatches(h.tally, cutoff)).find((b) => b.merchant_id === merchantId)).toBe(
        undefined,
      );
      const reversed = await h.tally.database.db
        .selectFrom('settlement_movements')
        .select('batch_id')
        .where('merchant_id', '=', merchantId)
        .where('removed', '=', 1)
        .execute();
      expect(reversed.length).toBeGreaterThan(0);
      expect(reversed.every((r) => r.batch_id === null)).toBe(true);

      const from = new Date(h.clock.now().getTime() - 86_400_000).toISOString();
      const report = (
        await h.request('GET', `/v1/settlement/report?from=${from}&to=${cutoff.toISOString()}&format=json`, {
          token,
        })
      ).body;
      const movements = report.rows.filter((r: { type: string }) => r.type === 'movement');
      expect(movements.map((r: { txid: string }) => r.txid).sort()).toEqual([usdcSweepTx, polSweepTx].sort());
      expect(
        movements.every((r: { settlement_batch_id: string }) => r.settlement_batch_id === mine?.id),
      ).toBe(true);
      const payments = report.rows.filter((r: { type: string }) => r.type === 'payment');
      expect(payments.find((r: { invoice_id: string }) => r.invoice_id === usdcInvoice.id)).toMatchObject({
        settlement_batch_id: mine?.id,
        settlement_txid: usdcSweepTx,
      });
      expect(payments.find((r: { invoice_id: string }) => r.invoice_id === polInvoice.id)).toMatchObject({
        settlement_batch_id: mine?.id,
        settlement_txid: polSweepTx,
      });
      // Totals in base units: what was received and what left agree with the chain (all swept).
      expect(report.totals.crypto['USDC/polygon']).toMatchObject({
        received: String(usdcInvoice.due),
        spent: String(usdcInvoice.due),
        swept: String(usdcInvoice.due),
        fees: '0',
      });
    }, 60_000);

    it('a refund transfer is left to the refund job and booked once, as a refund, not as a sweep', async () => {
      const inv = await paid('USDC', 2_000_000n);
      expect(inv.status).toBe('overpaid');
      const asked = await h.request('POST', `/v1/invoices/${inv.id}/refunds`, {
        token,
        body: { kind: 'excess', destination: DEV_ACCOUNTS.other, reason: 'paid 2 USDC too much' },
      });
      await h.request('POST', `/v1/refunds/${asked.body.id}/approve`, {
        token: approver,
        body: { reason: 'excess confirmed' },
      });
      const tx = (await h.request('POST', `/v1/refunds/${asked.body.id}/transaction`, { token, body: {} }))
        .body.unsigned_transaction;
      await polygon.rpc.call('anvil_setBalance', [inv.address, `0x${BigInt(tx.gas_needed).toString(16)}`]);
      const sent = await signAndSend(tx.unsigned as Hex, leg, inv.index);
      await h.sync();
      expect(await movementsOf(sent.hash)).toHaveLength(0); // the refund job's, once final
      await polygon.mine(64);
      await h.sync();
      expect(await movementsOf(sent.hash)).toHaveLength(0);
      expect(await checkEvmRefunds(h.tally, 'polygon', polygon.rpc)).toEqual([asked.body.id]);
      await h.sync();
      const rows = await movementsOf(sent.hash);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        refund_id: asked.body.id,
        refunded: '2000000',
        swept: '0',
        removed: 0,
      });
      expect(await balance('clearing:refunds_in_transit', 'USDC')).toBe(0n);
      expect(await verified()).toMatchObject({ ok: true, unbalanced: [], movements_unbooked: [] });
      // The rest of the address is swept afterwards: a sweep movement of its own.
      const t = await sweepOf(inv.address);
      expect(BigInt(t.transaction.amount)).toBe(inv.due);
      await polygon.rpc.call('anvil_setBalance', [
        inv.address,
        `0x${BigInt(t.transaction.gas_needed).toString(16)}`,
      ]);
      const swept = await signAndSend(t.transaction.unsigned as Hex, leg, inv.index);
      await h.sync();
      const [sweep] = await movementsOf(swept.hash);
      expect(sweep).toMatchObject({ refund_id: null, swept: String(inv.due), removed: 0 });
      expect(await verified()).toMatchObject({ ok: true });
    }, 90_000);
  },
);
