/**
 * The PSBT builder's arithmetic, without a node: the fee follows the estimated size and rate,
 * change below the dust limit goes to the fee instead of making an unspendable output, a full
 * refund takes the fee out of the refund, and what cannot be paid is refused with a coded error.
 */
import * as btc from '@scure/btc-signer';
import { describe, expect, it } from 'vitest';
import { TallyError } from '../../src/core/errors.ts';
import { DEV_REGTEST_TPUB } from '../../src/dev/dev-wallets.ts';
import {
  BITCOIN_NETWORKS,
  buildPsbt,
  changeAddress,
  DUST_LIMIT,
  feeFor,
} from '../../src/refunds/bitcoin-psbt.ts';

const wallet = { xpub: DEV_REGTEST_TPUB, scriptType: 'p2wpkh' };
const CUSTOMER = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
const input = (amount: bigint, vout = 0) => ({ txid: 'aa'.repeat(32), vout, amount, index: 3 });
const change = { address: changeAddress(wallet, 3, 'bitcoin-regtest'), amount: 0n, role: 'change' as const };

describe('buildPsbt', () => {
  it('pays the refund, returns the change to /1/index and charges size × rate', () => {
    const built = buildPsbt({
      networkId: 'bitcoin-regtest',
      wallet,
      inputs: [input(100_000n)],
      pay: [{ address: CUSTOMER, amount: 40_000n, role: 'refund' }],
      remainderTo: change,
      feeRate: '2',
    });
    // 1 P2WPKH input (68) + 2 P2WPKH outputs (31 each) + 10.5 → 141 vB.
    expect(built.vsize).toBe(141);
    expect(built.fee).toBe(282n);
    expect(built.outputs).toEqual([
      { address: CUSTOMER, amount: 40_000n, role: 'refund' },
      { ...change, amount: 100_000n - 40_000n - 282n },
    ]);
    const tx = btc.Transaction.fromPSBT(Buffer.from(built.psbt, 'base64'));
    expect(tx.inputsLength).toBe(1);
    expect(tx.getInput(0).witnessUtxo?.amount).toBe(100_000n);
    expect(tx.getInput(0).bip32Derivation?.[0]?.[1].path).toEqual([0, 3]);
    expect(
      btc
        .Address(BITCOIN_NETWORKS['bitcoin-regtest'] as typeof btc.NETWORK)
        .encode(btc.OutScript.decode(tx.getOutput(1).script as Uint8Array)),
    ).toBe(change.address);
  });

  it('drops change below the dust limit into the fee', () => {
    const built = buildPsbt({
      networkId: 'bitcoin-regtest',
      wallet,
      inputs: [input(40_600n)],
      pay: [{ address: CUSTOMER, amount: 40_000n, role: 'refund' }],
      remainderTo: change,
      feeRate: '1',
    });
    // 40,600 − 40,000 − 141 (with change) = 459 sat of change: below the dust limit, so no change
    // output, and everything left over is the fee.
    expect(40_600n - 40_000n - 141n).toBeLessThan(DUST_LIMIT);
    expect(built.outputs).toHaveLength(1);
    expect(built.fee).toBe(600n);
  });

  it('takes the fee out of a full refund, and refuses what cannot be paid', () => {
    const full = buildPsbt({
      networkId: 'bitcoin-regtest',
      wallet,
      inputs: [input(50_000n), input(10_000n, 1)],
      pay: [{ address: CUSTOMER, amount: 60_000n, role: 'refund' }],
      remainderTo: change,
      feeRate: '3',
      deductFeeFrom: 0,
    });
    expect(full.outputs).toHaveLength(1);
    expect((full.outputs[0]?.amount ?? 0n) + full.fee).toBe(60_000n);
    expect(full.fee).toBe(feeFor(full.vsize, '3'));
    const short = () =>
      buildPsbt({
        networkId: 'bitcoin-regtest',
        wallet,
        inputs: [input(50_000n)],
        pay: [{ address: CUSTOMER, amount: 60_000n, role: 'refund' }],
        remainderTo: change,
        feeRate: '3',
      });
    expect(short).toThrow(TallyError);
  });

  it('rounds fractional rates up and refuses a zero or malformed rate naming fee_rate', () => {
    expect(feeFor(141, '1.5')).toBe(212n);
    for (const bad of ['0', '-1', '1e3', 'abc', '1.2345']) {
      try {
        feeFor(141, bad);
        throw new Error(`accepted ${bad}`);
      } catch (error) {
        expect((error as TallyError).code).toBe('validation_failed');
        expect(((error as TallyError).details as { issues: Array<{ path: string }> }).issues[0]?.path).toBe(
          'fee_rate',
        );
      }
    }
  });
});
