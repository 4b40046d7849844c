/**
 * EVM refunds and sweeps against anvil (chain id 137, test USDC at Polygon's USDC address): Tally
 * builds unsigned EIP-1559 transactions from the invoice address; the test signs them with the
 * merchant's key (an account of the dev mnemonic, m/44'/60'/<leg>'/0/<index>, unfunded on anvil; Tally
 * holds only the xpub) and
 * broadcasts them, and the tokens arrive; the refund's Transfer log, once final, completes it and
 * books it.
 */

import { decodeFunctionResult, encodeFunctionData, erc20Abi, type Hex, parseTransaction } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAmount } from '../../src/core/money.ts';
import { DEV_ACCOUNTS, sendNative } from '../../src/dev/evm-tools.ts';
import { checkEvmRefunds } from '../../src/refunds/evm-refund-watch.ts';
import { buildEvmSweep } from '../../src/settlement/sweep-evm.ts';
import { DATABASES } from '../helpers/databases.ts';
import { type EvmChain, type EvmHarness, evmHarness } from '../helpers/evm-e2e.ts';
import {
  evmMoneyMerchant,
  merchantAccountKey,
  payPolygonInvoice,
  signAsMerchant,
  startPolygonWithUsdc,
} from '../helpers/evm-money.ts';

let polygon: EvmChain;
beforeAll(async () => {
  polygon = await startPolygonWithUsdc();
}, 60_000);
afterAll(async () => polygon?.stop());

async function usdcBalance(address: string): Promise<bigint> {
  const data = encodeFunctionData({ abi: erc20Abi, functionName: 'balanceOf', args: [address as Hex] });
  const raw = await polygon.rpc.call<Hex>('eth_call', [{ to: polygon.tokens.USDC, data }, 'latest']);
  return decodeFunctionResult({ abi: erc20Abi, functionName: 'balanceOf', data: raw });
}

/** Signs as the merchant's wallet would (the key of the invoice's derivation index) and broadcasts. */
async function signAndSend(unsigned: Hex, leg: number, index: number): Promise<void> {
  const sent = await signAsMerchant(polygon, unsigned, leg, index);
  expect(sent.receipt.status).toBe('0x1');
}

describe.each(DATABASES.map((d, i) => ({ ...d, leg: i + 1 })))(
  'EVM refunds and sweeps against anvil ($name)',
  ({ fresh, leg }) => {
    let h: EvmHarness;
    let approver: string;
    let token: string;
    let merchantId: string;
    beforeAll(async () => {
      h = await evmHarness(await fresh(), [polygon]);
      ({ merchantId, token, approver } = await evmMoneyMerchant(h, polygon, leg, `EVM refunds ${leg}`));
    }, 60_000);
    afterAll(async () => h?.close());

    const paidInvoice = (extra: bigint) => payPolygonInvoice(h, polygon, token, 'USDC', extra);

    it('refunds an overpaid USDC invoice with an unsigned EIP-1559 transfer that the merchant signs', async () => {
      const inv = await paidInvoice(2_000_000n);
      expect(inv.status).toBe('overpaid');
      const asked = await h.request('POST', `/v1/invoices/${inv.id}/refunds`, {
        token,
        body: { kind: 'excess', destination: DEV_ACCOUNTS.other, reason: 'paid 2 USDC too much' },
      });
      expect(asked.body).toMatchObject({
        amount: '2',
        amount_base_units: '2000000',
        status: 'pending_approval',
      });
      // A mixed-case address with a broken EIP-55 checksum is refused naming the field.
      const typo = await h.request('POST', `/v1/invoices/${inv.id}/refunds`, {
        token,
        body: { kind: 'excess', destination: '0x000000000000000000000000000000000000BeeF', reason: 'typo' },
      });
      expect(typo.status).toBe(422);
      expect(typo.body.error.details.issues[0].path).toBe('destination');

      const approved = await h.request('POST', `/v1/refunds/${asked.body.id}/approve`, {
        token: approver,
        body: { reason: 'excess confirmed' },
      });
      expect(approved.body.status).toBe('approved');
      const built = await h.request('POST', `/v1/refunds/${asked.body.id}/transaction`, { token, body: {} });
      expect(built.status, JSON.stringify(built.body)).toBe(200);
      const tx = built.body.unsigned_transaction;
      expect(tx).toMatchObject({
        format: 'eip1559',
        chain_id: 137,
        from: inv.address,
        to: polygon.tokens.USDC,
        value: '0',
        amount: '2000000',
      });
      expect(BigInt(tx.gas_needed)).toBe(BigInt(tx.gas) * BigInt(tx.max_fee_per_gas));
      // The invoice address holds USDC but no POL for gas: the transaction says how much it needs.
      expect(tx.native_balance).toBe('0');
      expect(tx.gas_shortfall).toBe(tx.gas_needed);
      await polygon.rpc.call('anvil_setBalance', [inv.address, `0x${BigInt(tx.gas_needed).toString(16)}`]);
      const parsed = parseTransaction(tx.unsigned as Hex);
      expect(parsed).toMatchObject({ type: 'eip1559', chainId: 137, nonce: tx.nonce });
      // A token refund is found by its Transfer log: a reported hash is refused, not stored.
      const hashForToken = await h.request('POST', `/v1/refunds/${asked.body.id}/transaction-hash`, {
        token,
        body: { txid: `0x${'ab'.repeat(32)}` },
      });
      expect(hashForToken.status).toBe(409);
      expect(hashForToken.body.error.message).toContain('Transfer log');

      const before = await usdcBalance(DEV_ACCOUNTS.other);
      await signAndSend(tx.unsigned as Hex, leg, inv.index);
      expect((await usdcBalance(DEV_ACCOUNTS.other)) - before).toBe(2_000_000n);
      // Found on chain only once final (Polygon: 64 blocks), by its Transfer log from the invoice address.
      expect(await checkEvmRefunds(h.tally, 'polygon', polygon.rpc)).toEqual([]);
      await polygon.mine(64);
      expect(await checkEvmRefunds(h.tally, 'polygon', polygon.rpc)).toEqual([asked.body.id]);
      const done = (await h.request('GET', `/v1/refunds/${asked.body.id}`, { token })).body;
      expect(done).toMatchObject({ status: 'completed', txid: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
      // The gas was paid in POL from the address's native balance and is not booked: unknown, not "0 POL".
      expect(done).toMatchObject({ fee: null, fee_asset: 'POL' });
      // The settlement report leaves that fee blank too, rather than "0" in USDC.
      const day = 24 * 3600_000;
      const period = `from=${new Date(h.clock.now().getTime() - day).toISOString()}&to=${new Date(h.clock.now().getTime() + day).toISOString()}`;
      const report = (await h.request('GET', `/v1/settlement/report?${period}&format=json`, { token })).body;
      const refundRow = report.rows.find((r: { type: string; refund_ids: string }) => r.type === 'refund');
      expect(refundRow).toMatchObject({ asset: 'USDC', amount: '2', fee: '', fee_fiat_value: '' });
      const invoice = (await h.request('GET', `/v1/invoices/${inv.id}`, { token })).body;
      expect(invoice.status).toBe('partially_refunded');
      const events = (await h.request('GET', `/v1/invoices/${inv.id}/events?limit=100`, { token })).body.data;
      expect(events.map((e: { type: string }) => e.type)).toContain('refund.completed');
      expect((await h.request('GET', '/v1/ledger/verify', { token })).body).toMatchObject({ ok: true });
      const balances = (await h.request('GET', '/v1/ledger/balances', { token })).body.data;
      expect(
        balances.find((b: { account: string }) => b.account === 'clearing:refunds_in_transit')
          ?.balance_base_units ?? '0',
      ).toBe('0');
      // Checked twice, booked once.
      expect(await checkEvmRefunds(h.tally, 'polygon', polygon.rpc)).toEqual([]);
    }, 60_000);

    it("states a USDC refund's fee estimate in POL, the native coin that pays its gas, not in USDC", async () => {
      const inv = await paidInvoice(5_000_000n);
      const asked = await h.request('POST', `/v1/invoices/${inv.id}/refunds`, {
        token,
        body: { kind: 'excess', destination: DEV_ACCOUNTS.other, reason: 'paid 5 USDC too much' },
      });
      expect(asked.body).toMatchObject({ asset: 'USDC', amount: '5', fee_estimate: null, fee_asset: 'POL' });
      await h.request('POST', `/v1/refunds/${asked.body.id}/approve`, {
        token: approver,
        body: { reason: 'excess confirmed' },
      });
      const built = await h.request('POST', `/v1/refunds/${asked.body.id}/transaction`, { token, body: {} });
      expect(built.status, JSON.stringify(built.body)).toBe(200);
      const wei = BigInt(built.body.unsigned_transaction.gas_needed);
      // gas × max fee in wei, stated in POL (18 decimals): a tiny fraction of a coin.
      expect(built.body.fee_asset).toBe('POL');
      expect(built.body.fee_estimate).toBe(formatAmount(wei, 18));
      expect(Number(built.body.fee_estimate)).toBeLessThan(1);
      expect(built.body).toMatchObject({ asset: 'USDC', amount: '5' });
      await h.request('POST', `/v1/refunds/${asked.body.id}/cancel`, { token });
    }, 60_000);

    it("refuses the merchant's own invoice addresses as a destination, in any spelling", async () => {
      const inv = await paidInvoice(1_000_000n);
      const other = await paidInvoice(0n);
      for (const destination of [inv.address, inv.address.toLowerCase(), other.address.toLowerCase()]) {
        const res = await h.request('POST', `/v1/invoices/${inv.id}/refunds`, {
          token,
          body: { kind: 'excess', destination, reason: 'back to ourselves' },
        });
        expect(res.status, destination).toBe(422);
        expect(res.body.error.details.issues[0].path).toBe('destination');
      }
      // Through the customer's link as well.
      const link = await h.request('POST', `/v1/invoices/${inv.id}/refunds`, {
        token,
        body: { kind: 'excess', customer_link: true, reason: 'customer gives the address' },
      });
      const given = await h.request('POST', `/v1/refund-links/${link.body.customer_link_token}`, {
        token: null,
        body: { destination: other.address },
      });
      expect(given.status).toBe(422);
      expect(given.body.error.details.issues[0].path).toBe('destination');
      expect((await h.request('GET', `/v1/refunds/${link.body.id}`, { token })).body.status).toBe(
        'awaiting_destination',
      );
      const refunds = (await h.request('GET', `/v1/refunds?invoice_id=${inv.id}`, { token })).body.data;
      expect(refunds.map((r: { id: string }) => r.id)).toEqual([link.body.id]);
      await h.request('POST', `/v1/refunds/${link.body.id}/cancel`, { token });
    }, 60_000);

    it('a full native-coin refund: gas out of the refund, completed once the reported hash is final on chain', async () => {
      const created = await h.request('POST', '/v1/invoices', {
        token,
        body: {
          price: { amount: '1', currency: 'POL' },
          payment_options: [{ asset: 'POL', network: 'polygon' }],
        },
      });
      const option = created.body.payment_options[0];
      const inv = {
        id: created.body.id as string,
        address: option.address as string,
        due: BigInt(option.amount_due_base_units),
      };
      await sendNative(polygon.rpc, DEV_ACCOUNTS.customer, inv.address, inv.due);
      await h.sync();
      await polygon.mine(64);
      await h.sync();
      expect((await h.request('GET', `/v1/invoices/${inv.id}`, { token })).body.status).toBe('paid');
      const index = (
        await h.tally.database.db
          .selectFrom('payment_options')
          .select('derivation_index')
          .where('invoice_id', '=', inv.id)
          .executeTakeFirstOrThrow()
      ).derivation_index;

      const asked = await h.request('POST', `/v1/invoices/${inv.id}/refunds`, {
        token,
        body: { kind: 'full', destination: DEV_ACCOUNTS.other, reason: 'order cancelled' },
      });
      await h.request('POST', `/v1/refunds/${asked.body.id}/approve`, {
        token: approver,
        body: { reason: 'cancelled order' },
      });
      const tx = (await h.request('POST', `/v1/refunds/${asked.body.id}/transaction`, { token, body: {} }))
        .body.unsigned_transaction;
      // Everything at the address goes back; the gas comes out of it.
      expect(BigInt(tx.value) + BigInt(tx.gas_needed)).toBe(inv.due);
      expect(tx).toMatchObject({
        to: DEV_ACCOUNTS.other,
        data: null,
        gas_shortfall: '0',
        native_balance: String(inv.due),
      });

      const before = BigInt(await polygon.rpc.call<string>('eth_getBalance', [DEV_ACCOUNTS.other, 'latest']));
      const account = privateKeyToAccount(
        `0x${Buffer.from(merchantAccountKey(leg).deriveChild(index).privateKey as Uint8Array).toString('hex')}`,
      );
      const signed = await account.signTransaction(parseTransaction(tx.unsigned as Hex) as never);
      const hash = await polygon.rpc.call<Hex>('eth_sendRawTransaction', [signed]);
      await polygon.mine(1);
      expect(
        BigInt(await polygon.rpc.call<string>('eth_getBalance', [DEV_ACCOUNTS.other, 'latest'])) - before,
      ).toBe(BigInt(tx.value));
      // A hash of the wrong shape is refused naming the field; the right one is only a pointer.
      const bad = await h.request('POST', `/v1/refunds/${asked.body.id}/transaction-hash`, {
        token,
        body: { txid: 'abc' },
      });
      expect(bad.status).toBe(422);
      await h.request('POST', `/v1/refunds/${asked.body.id}/transaction-hash`, {
        token,
        body: { txid: hash },
      });
      expect(await checkEvmRefunds(h.tally, 'polygon', polygon.rpc)).toEqual([]); // not final yet
      await polygon.mine(64);
      expect(await checkEvmRefunds(h.tally, 'polygon', polygon.rpc)).toEqual([asked.body.id]);
      const receipt = await polygon.rpc.call<{ gasUsed: Hex; effectiveGasPrice: Hex }>(
        'eth_getTransactionReceipt',
        [hash],
      );
      const gas = BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice);
      const done = (await h.request('GET', `/v1/refunds/${asked.body.id}`, { token })).body;
      expect(done).toMatchObject({ status: 'completed', txid: hash, fee: expect.any(String) });
      const invoice = (await h.request('GET', `/v1/invoices/${inv.id}`, { token })).body;
      // A full refund pays its own gas: the invoice refunded everything it owed (as a Bitcoin full
      // refund paying its fee), and the gas allowance the network did not burn stays at the
      // address as the merchant's, to sweep.
      const row = await h.tally.database.db
        .selectFrom('invoices')
        .select('refunded_amount')
        .where('id', '=', inv.id)
        .executeTakeFirstOrThrow();
      expect(BigInt(row.refunded_amount)).toBe(inv.due);
      expect(invoice.status).toBe('refunded');
      const unused = inv.due - BigInt(tx.value) - gas;
      expect(unused).toBeGreaterThan(0n); // the fee cap was above the price paid
      expect(BigInt(await polygon.rpc.call<string>('eth_getBalance', [inv.address, 'latest']))).toBe(unused);
      const balanceOf = async (account: string) => {
        const rows = (await h.request('GET', '/v1/ledger/balances', { token })).body.data as Array<{
          account: string;
          asset: string;
          balance_base_units: string;
        }>;
        return BigInt(
          rows.find((b) => b.account === account && b.asset === 'POL')?.balance_base_units ?? '0',
        );
      };
      // The books agree with the chain: the leftover is at the invoice address and the merchant's.
      expect(await balanceOf('assets:invoice_addresses')).toBe(unused);
      expect(await balanceOf('revenue:unused_refund_gas')).toBe(-unused);
      expect(await balanceOf('clearing:refunds_in_transit')).toBe(0n);
      expect(await balanceOf('revenue:refunds')).toBe(inv.due);
      const movement = await h.tally.database.db
        .selectFrom('settlement_movements')
        .selectAll()
        .where('txid', '=', hash)
        .executeTakeFirstOrThrow();
      expect(movement).toMatchObject({
        refunded: String(inv.due),
        fee: String(gas),
        inputs_value: String(BigInt(tx.value) + gas),
        swept: '0',
      });
      expect((await h.request('GET', '/v1/ledger/verify', { token })).body).toMatchObject({
        ok: true,
        unbalanced: [],
        mismatched: [],
      });
    }, 90_000);

    it('sweeps settled invoice addresses to a cold address: one transfer each, with the gas it needs', async () => {
      const inv = await paidInvoice(0n);
      expect(inv.status).toBe('paid');
      const cold = '0x000000000000000000000000000000000000c01d';
      const sweep = await buildEvmSweep(h.tally, merchantId, { network: 'polygon', destination: cold });
      const mine = sweep.transfers.find((t) => t.from.toLowerCase() === inv.address.toLowerCase());
      expect(mine).toMatchObject({ asset: 'USDC', amount: '10' });
      expect(BigInt(mine?.transaction.gas_needed ?? 0)).toBeGreaterThan(0n);
      expect(mine?.transaction.gas_shortfall).toBe(mine?.transaction.gas_needed);
      await polygon.rpc.call('anvil_setBalance', [
        inv.address,
        `0x${BigInt(mine?.transaction.gas_needed ?? 0).toString(16)}`,
      ]);
      const before = await usdcBalance(cold);
      await signAndSend(mine?.transaction.unsigned as Hex, leg, inv.index);
      expect((await usdcBalance(cold)) - before).toBe(10_000_000n);
      expect(await usdcBalance(inv.address)).toBe(0n);
    }, 60_000);
  },
);
