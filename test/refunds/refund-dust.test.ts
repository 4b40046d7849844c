import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_REGTEST_TPUB } from '../../src/dev/dev-wallets.ts';
import { buildPsbt, changeAddress, DUST_LIMIT } from '../../src/refunds/bitcoin-psbt.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { recordPayment } from '../helpers/record-payment.ts';

/** BIP173's regtest test vector: a valid address that is none of the merchant's. */
const CUSTOMER = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

/**
 * A Bitcoin output below the 546-sat dust limit is not relayed: a refund that small is refused when
 * it is asked (422 naming amount, with the minimum in BTC), not approved and built into a PSBT
 * that can never reach the customer.
 */
describe.each(DATABASES)('Bitcoin refunds below the dust limit on $name', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh());
  });
  afterAll(async () => h?.close());

  /** A 0.001 BTC regtest invoice, paid with `extra` sats more than due. */
  async function paidInvoice(extra = 0n): Promise<string> {
    const created = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '0.001', currency: 'BTC' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const option = created.body.payment_options[0];
    const outcome = await recordPayment(h, created.body.id, option, {
      amount: BigInt(option.amount_due_base_units) + extra,
      confirmations: 6,
    });
    expect(outcome.changed).toBe(true);
    return created.body.id as string;
  }

  const ask = (invoiceId: string, body: Record<string, unknown>) =>
    h.request('POST', `/v1/invoices/${invoiceId}/refunds`, {
      body: { destination: CUSTOMER, reason: 'dust test', ...body },
    });
  const refundsOf = async (invoiceId: string) =>
    h.tally.database.db.selectFrom('refunds').select('amount').where('invoice_id', '=', invoiceId).execute();

  it('refuses a partial refund below 546 sats with 422 naming amount and the minimum in BTC', async () => {
    const id = await paidInvoice();
    for (const amount of ['0.00000001', '0.00000545']) {
      const refused = await ask(id, { kind: 'partial', amount });
      expect(refused.status, amount).toBe(422);
      expect(refused.body.error.code).toBe('validation_failed');
      expect(refused.body.error.details.issues).toEqual([
        { path: 'amount', message: expect.stringContaining('must be at least 0.00000546 BTC') },
      ]);
    }
    expect(await refundsOf(id)).toEqual([]);
    // The limit itself is a standard output.
    const accepted = await ask(id, { kind: 'partial', amount: '0.00000546' });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
    expect(accepted.body.amount_base_units).toBe(DUST_LIMIT.toString());
  });

  it('refuses an excess refund below the dust limit with 409 invalid_state, recording nothing', async () => {
    const id = await paidInvoice(100n);
    const refused = await ask(id, { kind: 'excess' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('invalid_state');
    expect(refused.body.error.message).toContain('0.00000546 BTC');
    expect(await refundsOf(id)).toEqual([]);
  });
});

describe('building a PSBT', () => {
  it('refuses a refund output below the dust limit (one recorded before requests were checked)', () => {
    const wallet = { xpub: DEV_REGTEST_TPUB, scriptType: 'p2wpkh' };
    const build = (amount: bigint) =>
      buildPsbt({
        networkId: 'bitcoin-regtest',
        wallet,
        inputs: [{ txid: 'aa'.repeat(32), vout: 0, amount: 100_000n, index: 3 }],
        pay: [{ address: CUSTOMER, amount, role: 'refund' }],
        remainderTo: { address: changeAddress(wallet, 3, 'bitcoin-regtest'), amount: 0n, role: 'change' },
        feeRate: '2',
      });
    expect(() => build(1n)).toThrow(/below the 546-sat dust limit; nothing was built/);
    expect(build(DUST_LIMIT).outputs[0]).toMatchObject({ role: 'refund', amount: DUST_LIMIT });
  });
});
