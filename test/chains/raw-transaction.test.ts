import { secp256k1 } from '@noble/curves/secp256k1.js';
import * as btc from '@scure/btc-signer';
import { describe, expect, it } from 'vitest';
import { scriptForAddress } from '../../src/chains/bitcoin/address-script.ts';
import { decodeBlockHex } from '../../src/chains/bitcoin/raw-block.ts';
import { decodeTransactionHex } from '../../src/chains/bitcoin/raw-transaction.ts';
import { REGTEST } from '../helpers/btc-wallet.ts';

/**
 * The decoder the watcher reads every block with, checked against transactions built and signed by
 * an independent library (@scure/btc-signer): txids, exact amounts, scripts, RBF signalling.
 */
const key = secp256k1.utils.randomSecretKey();
const pub = secp256k1.getPublicKey(key, true);

function signed(kind: 'legacy' | 'segwit', sequence: number, amounts: bigint[]) {
  const tx = new btc.Transaction();
  const prevTxid = Buffer.alloc(32, 7).toString('hex');
  if (kind === 'segwit') {
    const spend = btc.p2wpkh(pub, REGTEST);
    tx.addInput({
      txid: prevTxid,
      index: 1,
      witnessUtxo: { script: spend.script, amount: 2_100_000_000_000_000n },
      sequence,
    });
  } else {
    // A legacy input needs its full previous transaction: make one paying our P2PKH.
    const prev = new btc.Transaction();
    prev.addInput({ txid: prevTxid, index: 0 });
    prev.addOutputAddress(btc.p2pkh(pub, REGTEST).address as string, 2_100_000_000_000_000n, REGTEST);
    tx.addInput({ txid: prev.id, index: 0, nonWitnessUtxo: prev.toBytes(true, false), sequence });
  }
  for (const amount of amounts)
    tx.addOutputAddress(
      btc.p2wpkh(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true), REGTEST).address as string,
      amount,
      REGTEST,
    );
  tx.sign(key);
  tx.finalize();
  return tx;
}

describe('raw transaction decoding', () => {
  it.each(['legacy', 'segwit'] as const)('%s: txid, exact amounts and scripts match the signer', (kind) => {
    const amounts = [1n, 2_000_000_000_000_001n, 12_345_678n];
    const tx = signed(kind, 0xffffffff, amounts);
    const decoded = decodeTransactionHex(tx.hex);
    expect(decoded.txid).toBe(tx.id);
    expect(decoded.outputs.map((o) => o.value)).toEqual(amounts);
    for (let i = 0; i < amounts.length; i++) {
      expect(decoded.outputs[i]?.script).toBe(
        Buffer.from(tx.getOutput(i).script as Uint8Array).toString('hex'),
      );
    }
    expect(decoded.rbf).toBe(false);
    expect(decoded.coinbase).toBe(false);
    expect(decoded.inputs[0]?.prevVout).toBe(kind === 'segwit' ? 1 : 0);
  });

  it('BIP125: nSequence below 0xfffffffe signals replaceability; 0xfffffffe does not', () => {
    expect(decodeTransactionHex(signed('segwit', 0xfffffffd, [1000n]).hex).rbf).toBe(true);
    expect(decodeTransactionHex(signed('segwit', 0xfffffffe, [1000n]).hex).rbf).toBe(false);
    expect(decodeTransactionHex(signed('legacy', 0, [1000n]).hex).rbf).toBe(true);
  });

  it('refuses truncated or padded data instead of guessing', () => {
    const hex = signed('segwit', 0xffffffff, [5000n]).hex;
    expect(() => decodeTransactionHex(hex.slice(0, -10))).toThrow(/truncated/);
    expect(() => decodeTransactionHex(`${hex}00`)).toThrow(/trailing/);
  });

  it('decodes a block: header hash, previous hash, time and every transaction', () => {
    const txs = [signed('segwit', 0xffffffff, [1n]), signed('legacy', 0xffffffff, [2n, 3n])];
    const header = Buffer.alloc(80);
    header.writeUInt32LE(0x20000000, 0);
    Buffer.alloc(32, 9).copy(header, 4);
    header.writeUInt32LE(1_800_000_000, 68);
    const body = Buffer.concat([
      header,
      Buffer.from([txs.length]),
      ...txs.map((t) => Buffer.from(t.hex, 'hex')),
    ]);
    const block = decodeBlockHex(body.toString('hex'));
    expect(block.prevHash).toBe(Buffer.alloc(32, 9).toString('hex'));
    expect(block.time.toISOString()).toBe(new Date(1_800_000_000_000).toISOString());
    expect(block.transactions.map((t) => t.txid)).toEqual(txs.map((t) => t.id));
    expect(block.transactions[1]?.outputs.map((o) => o.value)).toEqual([2n, 3n]);
  });
});

describe('address → output script', () => {
  it('matches the BIP173/BIP350 and base58 reference vectors', () => {
    expect(scriptForAddress('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', 'bitcoin')).toBe(
      '0014751e76e8199196d454941c45d1b3a323f1433bd6',
    );
    expect(
      scriptForAddress('bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0', 'bitcoin'),
    ).toBe('512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
    expect(scriptForAddress('1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', 'bitcoin')).toBe(
      '76a91477bff20c60e522dfaa3350c39b030a5d004e839a88ac',
    );
    expect(scriptForAddress('3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy', 'bitcoin')).toBe(
      'a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87',
    );
  });

  it('agrees with the signer for regtest P2WPKH, P2TR and P2PKH', () => {
    const x = pub.subarray(1);
    for (const payment of [
      btc.p2wpkh(pub, REGTEST),
      btc.p2tr(x, undefined, REGTEST),
      btc.p2pkh(pub, REGTEST),
    ]) {
      expect(scriptForAddress(payment.address as string, 'bitcoin-regtest')).toBe(
        Buffer.from(payment.script).toString('hex'),
      );
    }
  });

  it('refuses an address of another network', () => {
    expect(() => scriptForAddress('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', 'bitcoin-regtest')).toThrow();
    expect(() => scriptForAddress('1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', 'bitcoin-testnet')).toThrow(
      /not for/,
    );
  });
});
