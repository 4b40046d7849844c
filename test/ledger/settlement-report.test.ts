/**
 * A period's settlement report balances to the base unit against the chain (btcd): money received
 * at invoice addresses, and money that left them (a refund and a sweep the test signs as the
 * merchant), summed by the report, equal what an independent reading of the same blocks with
 * @scure/btc-signer finds; the sweep lands in a settlement batch; CSV and JSON come from the API.
 * Movement fees carry their fiat value at the invoices' locked rates, in the books and the report.
 */
import * as btc from '@scure/btc-signer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptForAddress } from '../../src/chains/bitcoin/address-script.ts';
import { closeSettlementBatches } from '../../src/settlement/batches.ts';
import { csvField, REPORT_COLUMNS } from '../../src/settlement/report.ts';
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

/** Received at and spent from `scripts` in blocks from..to, read with @scure/btc-signer, not Tally. */
async function chainTotals(from: number, to: number, scripts: Set<string>) {
  const rpc = chain.node.rpc;
  const outputs = new Map<string, bigint>();
  let received = 0n;
  let spent = 0n;
  for (let height = from; height <= to; height++) {
    const hash = await rpc.call<string>('getblockhash', [height]);
    const { tx } = await rpc.call<{ tx: string[] }>('getblock', [hash, 1]);
    for (const txid of tx) {
      const raw = btc.Transaction.fromRaw(
        Buffer.from(await rpc.call<string>('getrawtransaction', [txid, 0]), 'hex'),
        {
          allowUnknownOutputs: true,
          disableScriptCheck: true,
        },
      );
      for (let i = 0; i < raw.inputsLength; i++) {
        const input = raw.getInput(i);
        const key = `${Buffer.from(input.txid ?? []).toString('hex')}:${input.index}`;
        const value = outputs.get(key);
        if (value !== undefined) {
          spent += value;
          outputs.delete(key);
        }
      }
      for (let i = 0; i < raw.outputsLength; i++) {
        const out = raw.getOutput(i);
        if (!out.script || !scripts.has(Buffer.from(out.script).toString('hex'))) continue;
        received += out.amount ?? 0n;
        outputs.set(`${txid}:${i}`, out.amount ?? 0n);
      }
    }
  }
  const unspent = [...outputs.values()].reduce((s, v) => s + v, 0n);
  return { received, spent, unspent };
}

describe.each(DATABASES)('settlement report against btcd ($name)', ({ fresh }) => {
  let h: BitcoinHarness;
  beforeAll(async () => {
    h = await bitcoinHarness(await fresh(), chain.node);
  }, 60_000);
  afterAll(async () => h?.close());

  it('received, refunded, swept and fees of a period equal the chain to the satoshi', async () => {
    const rpc = chain.node.rpc;
    const approver = await h.keyWithScopes(['admin']);
    const from = new Date(h.clock.now().getTime() - 1_000);
    const startHeight = (await rpc.call<number>('getblockcount')) + 1;
    const a = await h.invoice('0.0011');
    const b = await h.invoice('0.0012');
    const c = await h.invoice('0.0013');
    // a exact, b overpaid, c paid twice (the second is an uncredited duplicate).
    await chain.wallet.pay([
      { address: a.address, amount: a.due },
      { address: b.address, amount: b.due + 30_000n },
      { address: c.address, amount: c.due },
    ]);
    await chain.wallet.mine(1);
    await h.sync();
    await chain.wallet.pay([{ address: c.address, amount: c.due }]);
    await chain.wallet.mine(1);
    await h.sync();
    expect((await h.get(c.id)).status).toBe('paid');

    const refund = await h.request('POST', `/v1/invoices/${b.id}/refunds`, {
      body: { kind: 'excess', destination: chain.wallet.address, reason: 'overpaid' },
    });
    await h.request('POST', `/v1/refunds/${refund.body.id}/approve`, {
      token: approver,
      body: { reason: 'yes' },
    });
    const built = await h.request('POST', `/v1/refunds/${refund.body.id}/transaction`, {
      body: { fee_rate: '3' },
    });
    await signAndBroadcast(rpc, built.body.unsigned_transaction.psbt);
    await chain.wallet.mine(1);
    await h.sync();

    const sweep = await buildBitcoinSweep(h.tally, h.merchantId, {
      network: 'bitcoin-regtest',
      destination: chain.wallet.address,
      feeRate: '2',
    });
    // b's refund change is at the wallet's change address, not an invoice address: a, c (x2) remain.
    expect(sweep.inputs).toHaveLength(3);
    await signAndBroadcast(rpc, sweep.psbt);
    await chain.wallet.mine(1);
    await h.sync();
    const endHeight = await rpc.call<number>('getblockcount');
    h.clock.set(new Date(h.clock.now().getTime() + 2_000));
    const to = new Date(h.clock.now().getTime() + 1_000);
    const batches = await closeSettlementBatches(h.tally, to);
    expect(batches).toEqual([expect.objectContaining({ merchant_id: h.merchantId, movements: 2 })]);

    const res = await h.request(
      'GET',
      `/v1/settlement/report?from=${from.toISOString()}&to=${to.toISOString()}&format=json`,
    );
    expect(res.status).toBe(200);
    const report = res.body;
    const totals = report.totals.crypto['BTC/bitcoin-regtest'];
    const scripts = new Set([a, b, c].map((i) => scriptForAddress(i.address, 'bitcoin-regtest')));
    const onChain = await chainTotals(startHeight, endHeight, scripts);
    expect(BigInt(totals.received)).toBe(onChain.received);
    expect(BigInt(totals.spent)).toBe(onChain.spent);
    expect(BigInt(totals.received) - BigInt(totals.spent)).toBe(onChain.unspent);
    expect(onChain.unspent).toBe(0n);
    expect(BigInt(totals.refunded) + BigInt(totals.swept) + BigInt(totals.fees)).toBe(BigInt(totals.spent));
    expect(totals.uncredited).toBe(String(c.due));
    expect(totals.refunded).toBe('30000');

    const payments = report.rows.filter((r: { type: string }) => r.type === 'payment');
    expect(payments).toHaveLength(4);
    const paymentOfA = payments.find((r: { invoice_id: string }) => r.invoice_id === a.id);
    expect(paymentOfA).toMatchObject({
      settlement_batch_id: batches[0]?.id,
      settlement_txid: sweep.txid,
      credited: 'true',
      fiat_currency: 'BTC',
    });
    expect(report.rows.filter((r: { type: string }) => r.type === 'movement')).toHaveLength(2);
    expect(report.rows.filter((r: { type: string }) => r.type === 'refund')).toEqual([
      expect.objectContaining({ invoice_id: b.id, refund_ids: refund.body.id, amount_base_units: '30000' }),
    ]);

    const csv = await h.request(
      'GET',
      `/v1/settlement/report?from=${from.toISOString()}&to=${to.toISOString()}&format=csv`,
    );
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = (csv.body as string).trim().split('\r\n');
    expect(lines[0]).toMatch(/^type,time,merchant_order_id,invoice_id/);
    expect(lines).toHaveLength(1 + 4 + 2 + 1);
    // The CSV (written without row objects) says exactly what the JSON rows say, column by column.
    expect(lines.slice(1)).toEqual(
      report.rows.map((r: Record<string, string>) =>
        REPORT_COLUMNS.map((c) => csvField(r[c] ?? '')).join(','),
      ),
    );
    expect((await h.request('GET', '/v1/ledger/verify')).body).toMatchObject({ ok: true });
  }, 90_000);

  it('movement fees carry their fiat value at the locked rate, in the books and the report', async () => {
    const rpc = chain.node.rpc;
    const approver = await h.keyWithScopes(['admin']);
    const from = new Date(h.clock.now().getTime() - 1_000);
    const created = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '25.00', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      },
    });
    expect(created.status).toBe(201);
    const option = created.body.payment_options[0];
    const rate = option.rate.value as string;
    const due = BigInt(option.amount_due_base_units);
    await chain.wallet.pay([{ address: option.address, amount: due + 20_000n }]);
    await chain.wallet.mine(1);
    await h.sync();
    const refund = await h.request('POST', `/v1/invoices/${created.body.id}/refunds`, {
      body: { kind: 'excess', destination: chain.wallet.address, reason: 'overpaid' },
    });
    await h.request('POST', `/v1/refunds/${refund.body.id}/approve`, {
      token: approver,
      body: { reason: 'excess confirmed' },
    });
    const built = await h.request('POST', `/v1/refunds/${refund.body.id}/transaction`, {
      body: { fee_rate: '3' },
    });
    expect(built.status, JSON.stringify([refund.body, built.body])).toBe(200);
    const refundTx = await signAndBroadcast(rpc, built.body.unsigned_transaction.psbt);
    await chain.wallet.mine(1);
    await h.sync();
    // The refund's change went to the wallet; pay again to have something to sweep at this rate.
    const second = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '10.00', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      },
    });
    const secondOption = second.body.payment_options[0];
    await chain.wallet.pay([
      { address: secondOption.address, amount: BigInt(secondOption.amount_due_base_units) },
    ]);
    await chain.wallet.mine(1);
    await h.sync();
    const sweep = await buildBitcoinSweep(h.tally, h.merchantId, {
      network: 'bitcoin-regtest',
      destination: chain.wallet.address,
      feeRate: '2',
    });
    await signAndBroadcast(rpc, sweep.psbt);
    await chain.wallet.mine(1);
    await h.sync();
    h.clock.set(new Date(h.clock.now().getTime() + 2_000));
    const to = new Date(h.clock.now().getTime() + 1_000);

    // Independently: satoshis × USD per BTC, in cents, half away from zero.
    const cents = (sats: bigint, usdPerBtc: string) => {
      const [whole, frac = ''] = usdPerBtc.split('.');
      const scaled = BigInt(`${whole}${frac}`) * sats * 100n;
      const denominator = 10n ** BigInt(frac.length + 8);
      return (scaled * 2n + denominator) / (2n * denominator);
    };
    // Written as amounts are: trailing zeros of the fraction cut.
    const usd = (c: bigint) => `${c / 100n}.${String(c % 100n).padStart(2, '0')}`.replace(/\.?0+$/, '');
    expect(secondOption.rate.value).toBe(rate); // the fixed dev rate: one rate for both invoices

    const movements = await h.tally.database.db
      .selectFrom('settlement_movements')
      .select(['id', 'txid', 'fee'])
      .where('txid', 'in', [refundTx.txid, sweep.txid])
      .where('removed', '=', 0)
      .execute();
    expect(movements).toHaveLength(2);
    const report = (
      await h.request(
        'GET',
        `/v1/settlement/report?from=${from.toISOString()}&to=${to.toISOString()}&format=json`,
      )
    ).body;
    let total = 0n;
    for (const m of movements) {
      const expected = usd(cents(BigInt(m.fee), rate));
      const row = report.rows.find(
        (r: { type: string; txid: string }) => r.type === 'movement' && r.txid === m.txid,
      );
      expect(row).toMatchObject({ fiat_currency: 'USD', fee_fiat_value: expected });
      expect(BigInt(m.fee)).toBeGreaterThan(0n);
      total += cents(BigInt(m.fee), rate);
      // The ledger's entries of the movement carry fiat values too; the sweep's fee is the merchant's.
      const entries = await h.tally.database.db
        .selectFrom('ledger_entries')
        .innerJoin('ledger_transactions', 'ledger_transactions.id', 'ledger_entries.transaction_id')
        .select(['ledger_entries.account', 'ledger_entries.fiat_currency', 'ledger_entries.fiat_value'])
        .where('ledger_transactions.movement_id', '=', m.id)
        .execute();
      expect(entries.every((e) => e.fiat_currency === 'USD' && e.fiat_value !== null)).toBe(true);
      if (m.txid === sweep.txid)
        expect(entries.find((e) => e.account === 'expenses:network_fees')?.fiat_value).toBe(expected);
    }
    expect(report.totals.fees_fiat).toEqual({ USD: usd(total) });
    const refundRow = report.rows.find((r: { type: string }) => r.type === 'refund');
    const refundFee = (
      await h.tally.database.db
        .selectFrom('refunds')
        .select('fee')
        .where('id', '=', refund.body.id)
        .executeTakeFirstOrThrow()
    ).fee;
    expect(refundRow).toMatchObject({
      fiat_currency: 'USD',
      fee_fiat_value: usd(cents(BigInt(refundFee ?? -1), rate)),
    });
    // The CSV carries the same column.
    const csv = await h.request(
      'GET',
      `/v1/settlement/report?from=${from.toISOString()}&to=${to.toISOString()}&format=csv`,
    );
    const lines = (csv.body as string).trim().split('\r\n');
    expect(lines[0]?.endsWith(',refund_ids,fee_fiat_value')).toBe(true);
    expect(lines.slice(1)).toEqual(
      report.rows.map((r: Record<string, string>) =>
        REPORT_COLUMNS.map((c) => csvField(r[c] ?? '')).join(','),
      ),
    );
    expect((await h.request('GET', '/v1/ledger/verify')).body).toMatchObject({ ok: true });
  }, 90_000);
});
