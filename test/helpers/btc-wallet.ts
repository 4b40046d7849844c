import { secp256k1 } from '@noble/curves/secp256k1.js';
import * as btc from '@scure/btc-signer';
import type { BitcoinRpc } from '../../src/chains/bitcoin/rpc-client.ts';

/** Regtest address parameters for @scure/btc-signer. */
export const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };

export interface SentTx {
  txid: string;
  hex: string;
  inputs: Array<{ txid: string; index: number; amount: bigint; prevHex: string }>;
}

export interface PayOptions {
  /** Signal BIP125 replaceability (nSequence 0xfffffffd); default false (0xffffffff). */
  rbf?: boolean;
  fee?: bigint;
}

/**
 * The customer's side in tests: a key the test holds, mining coinbases to its P2PKH address (no
 * SegWit activation needed to spend them on a fresh regtest chain), and building real signed
 * transactions with @scure/btc-signer, broadcast with sendrawtransaction. Independent of Tally's
 * own decoder: UTXOs come from the node's verbose getblock.
 */
export class TestWallet {
  readonly privateKey = secp256k1.utils.randomSecretKey();
  readonly address: string;
  private nextCoinbaseHeight = 1;

  /** Set once the node runs: the node is started with this wallet's address as its mining address. */
  rpc!: BitcoinRpc;

  constructor() {
    this.address = btc.p2pkh(secp256k1.getPublicKey(this.privateKey, true), REGTEST).address as string;
  }

  async mine(blocks: number): Promise<string[]> {
    return this.rpc.call<string[]>('generate', [blocks]);
  }

  /** A mature coinbase output of the wallet not spent yet. */
  private async nextCoinbase(): Promise<SentTx['inputs'][number]> {
    const tip = await this.rpc.call<number>('getblockcount');
    if (this.nextCoinbaseHeight > tip - 100) await this.mine(this.nextCoinbaseHeight - (tip - 100));
    const hash = await this.rpc.call<string>('getblockhash', [this.nextCoinbaseHeight++]);
    const block = await this.rpc.call<{ tx: string[] }>('getblock', [hash, 1]);
    const txid = block.tx[0] as string;
    const prevHex = await this.rpc.call<string>('getrawtransaction', [txid, 0]);
    const amount = btc.Transaction.fromRaw(Buffer.from(prevHex, 'hex')).getOutput(0).amount as bigint;
    return { txid, index: 0, amount, prevHex };
  }

  /** Pays the outputs from one fresh coinbase, change back to the wallet, and broadcasts. */
  async pay(outputs: Array<{ address: string; amount: bigint }>, options: PayOptions = {}): Promise<SentTx> {
    return this.send([await this.nextCoinbase()], outputs, options);
  }

  /** A conflicting transaction spending the same inputs as `original` (RBF when it signalled). */
  async replace(
    original: SentTx,
    outputs: Array<{ address: string; amount: bigint }>,
    options: PayOptions = {},
  ): Promise<SentTx> {
    return this.send(original.inputs, outputs, { fee: 100_000n, ...options });
  }

  /** Builds and signs without broadcasting. */
  build(
    inputs: SentTx['inputs'],
    outputs: Array<{ address: string; amount: bigint }>,
    options: PayOptions = {},
  ) {
    const tx = new btc.Transaction();
    for (const input of inputs) {
      tx.addInput({
        txid: input.txid,
        index: input.index,
        nonWitnessUtxo: Buffer.from(input.prevHex, 'hex'),
        sequence: options.rbf ? 0xfffffffd : 0xffffffff,
      });
    }
    let spent = 0n;
    for (const output of outputs) {
      tx.addOutputAddress(output.address, output.amount, REGTEST);
      spent += output.amount;
    }
    const total = inputs.reduce((sum, i) => sum + i.amount, 0n);
    const change = total - spent - (options.fee ?? 10_000n);
    if (change < 0n) throw new Error('test wallet: not enough funds');
    if (change > 1_000n) tx.addOutputAddress(this.address, change, REGTEST);
    tx.sign(this.privateKey);
    tx.finalize();
    return { txid: tx.id, hex: tx.hex, inputs };
  }

  private async send(
    inputs: SentTx['inputs'],
    outputs: Array<{ address: string; amount: bigint }>,
    options: PayOptions,
  ): Promise<SentTx> {
    const sent = this.build(inputs, outputs, options);
    const txid = await this.rpc.call<string>('sendrawtransaction', [sent.hex]);
    if (txid !== sent.txid) throw new Error(`node returned ${txid}, expected ${sent.txid}`);
    return sent;
  }
}
