/**
 * Non-custodial refunds end to end on btcd: the merchant asks, another admin approves with a
 * reason, Tally builds an unsigned PSBT spending the invoice's UTXO, the test signs it with the
 * merchant's key (Tally never has it) and broadcasts it; the watcher sees the spend in a block and
 * books it: refund completed, invoice (partially) refunded, refund.completed event, ledger balanced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitcoinNode } from '../../src/chains/bitcoin/bitcoin-node.ts';
import { formatAmount } from '../../src/core/money.ts';
import { reconcileBitcoin } from '../../src/reconciliation/reconcile-bitcoin.ts';
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

describe.each(DATABASES)('Bitcoin refunds against btcd ($name)', ({ fresh }) => {
  let h: BitcoinHarness;
  let approver: string;
  beforeAll(async () => {
    h = await bitcoinHarness(await fresh(), chain.node);
    approver = await h.keyWithScopes(['admin']);
  }, 60_000);
  afterAll(async () => h?.close());

  /** An invoice paid with `extra` sats too much, confirmed. */
  const paidInvoice = async (extra: bigint) => {
    const inv = await h.invoice('0.001');
    await chain.wallet.pay([{ address: inv.address, amount: inv.due + extra }]);
    await chain.wallet.mine(1);
    await h.sync();
    return inv;
  };
  const ledgerOk = async () => (await h.request('GET', '/v1/ledger/verify')).body;
  const balance = async (account: string) =>
    (await h.request('GET', '/v1/ledger/balances')).body.data.find(
      (b: { account: string }) => b.account === account,
    )?.balance_base_units ?? '0';

  it('refunds the excess of an overpayment: PSBT built, signed by the merchant, detected and booked', async () => {
    const inv = await paidInvoice(40_000n);
    expect((await h.get(inv.id)).status).toBe('overpaid');
    const asked = await h.request('POST', `/v1/invoices/${inv.id}/refunds`, {
      body: { kind: 'excess', destination: chain.wallet.address, reason: 'customer paid twice the fee' },
    });
    expect(asked.status).toBe(201);
    expect(asked.body).toMatchObject({
      status: 'pending_approval',
      amount_base_units: '40000',
      kind: 'excess',
    });
    const id = asked.body.id as string;

    // Four eyes: the requesting key cannot approve; an approval needs a reason.
    expect(
      (await h.request('POST', `/v1/refunds/${id}/approve`, { body: { reason: 'ok by me' } })).body.error
        .code,
    ).toBe('forbidden');
    expect((await h.request('POST', `/v1/refunds/${id}/approve`, { token: approver, body: {} })).status).toBe(
      422,
    );
    const approved = await h.request('POST', `/v1/refunds/${id}/approve`, {
      token: approver,
      body: { reason: 'excess confirmed on chain' },
    });
    expect(approved.body).toMatchObject({ status: 'approved', approval_reason: 'excess confirmed on chain' });

    const built = await h.request('POST', `/v1/refunds/${id}/transaction`, { body: { fee_rate: '2' } });
    expect(built.status).toBe(200);
    const unsigned = built.body.unsigned_transaction;
    expect(unsigned.format).toBe('psbt');
    // The merchant pays the fee out of the change: the customer receives the whole excess.
    expect(unsigned.outputs.map((o: { role: string; amount: string }) => [o.role, o.amount])).toEqual([
      ['refund', '40000'],
      ['change', String(inv.due - BigInt(unsigned.fee))],
    ]);

    const sent = await signAndBroadcast(chain.node.rpc, unsigned.psbt);
    expect(sent.txid).toBe(unsigned.txid);
    // The estimate covers the real size at the asked rate (signatures vary by a byte).
    expect(BigInt(unsigned.fee)).toBeGreaterThanOrEqual(BigInt(sent.vsize * 2));
    expect(BigInt(unsigned.fee)).toBeLessThanOrEqual(BigInt((sent.vsize + 2) * 2));

    await h.sync(); // mempool: nothing is booked before a block
    expect((await h.request('GET', `/v1/refunds/${id}`)).body.status).toBe('approved');
    await chain.wallet.mine(1);
    await h.sync();

    const done = (await h.request('GET', `/v1/refunds/${id}`)).body;
    expect(done).toMatchObject({ status: 'completed', txid: sent.txid, fee: expect.any(String) });
    const invoice = await h.get(inv.id);
    expect(invoice.status).toBe('partially_refunded');
    expect(await h.eventTypes(inv.id)).toContain('refund.completed');
    expect(await ledgerOk()).toMatchObject({
      ok: true,
      unbalanced: [],
      mismatched: [],
      movements_unbooked: [],
    });
    expect(await balance('clearing:refunds_in_transit')).toBe('0');
    expect(await balance('expenses:network_fees')).toBe(unsigned.fee);

    // Reconciliation notices when the block holding the booked refund leaves the best chain.
    // The refund was mined in the tip block.
    const refundBlock = await chain.node.rpc.call<string>('getbestblockhash');
    await chain.node.rpc.call('invalidateblock', [refundBlock]);
    try {
      const report = await reconcileBitcoin(
        h.tally,
        new BitcoinNode(chain.node.rpc, 'bitcoin-regtest'),
        'bitcoin-regtest',
        {
          fromHeight: (await chain.node.rpc.call<number>('getblockcount')) - 3,
        },
      );
      expect(report.mismatches.filter((m) => m.kind === 'reconciliation_movement_not_in_chain')).toEqual([
        expect.objectContaining({
          invoice_id: inv.id,
          detail: expect.objectContaining({ txid: sent.txid, refund_id: id }),
        }),
      ]);
      expect((await h.exceptions(inv.id)).map((e) => e.kind)).toContain(
        'reconciliation_movement_not_in_chain',
      );
    } finally {
      await chain.node.rpc.call('reconsiderblock', [refundBlock]);
    }
  }, 60_000);

  it('a full refund through the customer link takes the fee out of the refund and ends refunded', async () => {
    const inv = await paidInvoice(0n);
    const asked = await h.request('POST', `/v1/invoices/${inv.id}/refunds`, {
      body: { kind: 'full', customer_link: true, reason: 'order cancelled' },
    });
    expect(asked.body.status).toBe('awaiting_destination');
    const token = asked.body.customer_link_token as string;
    // A mainnet address for a regtest refund is refused naming the field; nothing changes.
    const wrong = await h.request('POST', `/v1/refund-links/${token}`, {
      token: null,
      body: { destination: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq' },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.details.issues[0].path).toBe('destination');
    const given = await h.request('POST', `/v1/refund-links/${token}`, {
      token: null,
      body: { destination: chain.wallet.address },
    });
    expect(given.body.status).toBe('pending_approval');
    await h.request('POST', `/v1/refunds/${asked.body.id}/approve`, {
      token: approver,
      body: { reason: 'cancelled order' },
    });
    const built = (await h.request('POST', `/v1/refunds/${asked.body.id}/transaction`, { body: {} })).body;
    const out = built.unsigned_transaction.outputs;
    expect(out).toHaveLength(1);
    expect(BigInt(out[0].amount) + BigInt(built.unsigned_transaction.fee)).toBe(inv.due);

    await signAndBroadcast(chain.node.rpc, built.unsigned_transaction.psbt);
    await chain.wallet.mine(1);
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('refunded');
    expect(await ledgerOk()).toMatchObject({ ok: true });
    expect(await balance('clearing:refunds_in_transit')).toBe('0');
  }, 60_000);

  it('refuses a partial refund above what was received, naming the field, and writes nothing', async () => {
    const inv = await paidInvoice(0n);
    const res = await h.request('POST', `/v1/invoices/${inv.id}/refunds`, {
      body: { kind: 'partial', amount: '0.002', destination: chain.wallet.address, reason: 'too much' },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details.issues[0].path).toBe('amount');
    // The refundable amount is stated like the request's own: a decimal in the asset.
    expect(res.body.error.message).toBe(`amount: exceeds the refundable ${formatAmount(inv.due, 8)} BTC`);
    expect((await h.request('GET', `/v1/refunds?invoice_id=${inv.id}`)).body.data).toEqual([]);
  }, 60_000);

  it("refuses the merchant's own invoice addresses as a destination, asked or given through the link", async () => {
    const inv = await paidInvoice(0n);
    const other = await h.invoice('0.001');
    for (const destination of [inv.address, inv.address.toUpperCase(), other.address]) {
      const res = await h.request('POST', `/v1/invoices/${inv.id}/refunds`, {
        body: { kind: 'full', destination, reason: 'back to ourselves' },
      });
      expect(res.status, destination).toBe(422);
      expect(res.body.error.details.issues[0]).toMatchObject({
        path: 'destination',
        message: expect.stringContaining('own invoice addresses'),
      });
    }
    const link = await h.request('POST', `/v1/invoices/${inv.id}/refunds`, {
      body: { kind: 'full', customer_link: true, reason: 'customer gives the address' },
    });
    const given = await h.request('POST', `/v1/refund-links/${link.body.customer_link_token}`, {
      token: null,
      body: { destination: inv.address },
    });
    expect(given.status).toBe(422);
    expect(given.body.error.details.issues[0].path).toBe('destination');
    expect((await h.request('GET', `/v1/refunds/${link.body.id}`)).body.status).toBe('awaiting_destination');
    await h.request('POST', `/v1/refunds/${link.body.id}/cancel`);
  }, 60_000);

  it('sends a partial refund whole or not at all; a full one pays its fee, stated in BTC', async () => {
    const inv = await paidInvoice(0n);
    const approve = async (body: Record<string, unknown>) => {
      const asked = await h.request('POST', `/v1/invoices/${inv.id}/refunds`, {
        body: { destination: chain.wallet.address, reason: 'returned', ...body },
      });
      expect(asked.status, JSON.stringify(asked.body)).toBe(201);
      const approved = await h.request('POST', `/v1/refunds/${asked.body.id}/approve`, {
        token: approver,
        body: { reason: 'goods returned' },
      });
      expect(approved.body.status).toBe('approved');
      return asked.body.id as string;
    };
    // A partial refund of everything at the address leaves nothing to pay the fee with: refused,
    // not shortened by the fee (the customer was promised that amount).
    const partial = await approve({ kind: 'partial', amount: formatAmount(inv.due, 8) });
    const refused = await h.request('POST', `/v1/refunds/${partial}/transaction`, { body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('Refund less, or in full');
    expect((await h.request('GET', `/v1/refunds/${partial}`)).body.unsigned_transaction).toBeNull();
    await h.request('POST', `/v1/refunds/${partial}/cancel`);

    const full = await approve({ kind: 'full' });
    // A fee above the whole balance says so (it is not a dust problem).
    const tooDear = await h.request('POST', `/v1/refunds/${full}/transaction`, {
      body: { fee_rate: '999999' },
    });
    expect(tooDear.status).toBe(409);
    expect(tooDear.body.error.message).toContain('exceeds');
    expect(tooDear.body.error.message).not.toContain('dust');
    const built = (await h.request('POST', `/v1/refunds/${full}/transaction`, { body: {} })).body;
    const fee = BigInt(built.unsigned_transaction.fee);
    expect(built.unsigned_transaction.outputs).toEqual([
      { address: chain.wallet.address, amount: String(inv.due - fee), role: 'refund' },
    ]);
    expect(built).toMatchObject({ fee_asset: 'BTC', fee_estimate: formatAmount(fee, 8) });
    await h.request('POST', `/v1/refunds/${full}/cancel`);
  }, 60_000);
});
