import { type BitcoinBlock, decodeBlockHex } from './raw-block.ts';
import { type BitcoinTx, decodeTransactionHex } from './raw-transaction.ts';
import { type BitcoinRpc, NodeUnavailableError } from './rpc-client.ts';

export interface NodeStatus {
  height: number;
  hash: string;
  /** Headers the node knows beyond its validated blocks, or Core's initial-block-download flag. */
  syncing: boolean;
  chain: string;
}

/** Genesis hashes: a node on another chain than the configured network is refused, not read. */
const GENESIS: Record<string, string> = {
  bitcoin: '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
  'bitcoin-testnet': '000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943',
  'bitcoin-regtest': '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
};

/**
 * The Bitcoin ChainAdapter's view of a node: what the chain says, decoded from raw bytes, and
 * nothing else. It never decides invoice state. Works with btcd and Bitcoin Core; see
 * docs/bitcoin-nodes.md for where the two differ.
 */
export class BitcoinNode {
  constructor(
    readonly rpc: BitcoinRpc,
    readonly network: string,
  ) {}

  async checkGenesis(): Promise<void> {
    const expected = GENESIS[this.network];
    const actual = await this.rpc.call<string>('getblockhash', [0]);
    if (expected && actual !== expected) {
      throw new NodeUnavailableError(
        'getblockhash',
        `the node is not on ${this.network} (genesis ${actual})`,
      );
    }
  }

  async status(): Promise<NodeStatus> {
    const info = await this.rpc.call<{
      chain: string;
      blocks: number;
      headers: number;
      bestblockhash: string;
      initialblockdownload?: boolean;
    }>('getblockchaininfo');
    if (!Number.isInteger(info.blocks) || typeof info.bestblockhash !== 'string') {
      throw new NodeUnavailableError('getblockchaininfo', 'malformed answer');
    }
    return {
      height: info.blocks,
      hash: info.bestblockhash,
      syncing: info.initialblockdownload === true || info.headers > info.blocks,
      chain: info.chain,
    };
  }

  /** The hash at `height` on the node's best chain, or null above its tip. */
  async blockHashAt(height: number): Promise<string | null> {
    try {
      return await this.rpc.call<string>('getblockhash', [height]);
    } catch (error) {
      if (error instanceof NodeUnavailableError && /out of range|-8|-1:/.test(error.message)) return null;
      throw error;
    }
  }

  async block(hash: string): Promise<BitcoinBlock> {
    const hex = await this.rpc.call<string>('getblock', [hash, 0]);
    const block = decodeBlockHex(hex);
    if (block.hash !== hash)
      throw new NodeUnavailableError('getblock', `asked for ${hash}, got ${block.hash}`);
    return block;
  }

  async previousHash(hash: string): Promise<string> {
    const header = await this.rpc.call<{ previousblockhash?: string }>('getblockheader', [hash, true]);
    return header.previousblockhash ?? '0'.repeat(64);
  }

  async mempoolTxids(): Promise<string[]> {
    return this.rpc.call<string[]>('getrawmempool', [false]);
  }

  /**
   * Many mempool transactions at once (batches of 500). A transaction the node no longer has
   * (mined or evicted since the txid list was read) is simply absent from the answer.
   */
  async transactions(txids: readonly string[]): Promise<BitcoinTx[]> {
    const found: BitcoinTx[] = [];
    for (let i = 0; i < txids.length; i += 500) {
      const chunk = txids.slice(i, i + 500);
      const answers = await this.rpc.batch<string>(
        'getrawtransaction',
        chunk.map((txid) => [txid, 0]),
      );
      for (const [j, answer] of answers.entries()) {
        if ('error' in answer) {
          if (/-5:|No information|not found/i.test(answer.error)) continue;
          throw new NodeUnavailableError('getrawtransaction', answer.error);
        }
        const tx = decodeTransactionHex(answer.result);
        if (tx.txid !== chunk[j])
          throw new NodeUnavailableError('getrawtransaction', `asked for ${chunk[j]}, got ${tx.txid}`);
        found.push(tx);
      }
    }
    return found;
  }

  /** A mempool (or, with txindex, confirmed) transaction; null when the node no longer has it. */
  async transaction(txid: string): Promise<BitcoinTx | null> {
    try {
      const tx = decodeTransactionHex(await this.rpc.call<string>('getrawtransaction', [txid, 0]));
      if (tx.txid !== txid)
        throw new NodeUnavailableError('getrawtransaction', `asked for ${txid}, got ${tx.txid}`);
      return tx;
    } catch (error) {
      if (error instanceof NodeUnavailableError && /-5:|No information|not found/i.test(error.message))
        return null;
      throw error;
    }
  }
}
