import type { NetworkDefinition } from '../../core/registry.ts';
import { type FeeReceipt, receiptFee } from './receipt-fee.ts';
import { type EvmRpc, RpcResponseError, RpcUnavailableError } from './rpc-client.ts';

/** keccak256("Transfer(address,address,uint256)"): the ERC-20 Transfer event's first topic. */
export const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';

export interface EvmTx {
  hash: string;
  from: string;
  to: string | null;
  value: bigint;
}

export interface EvmBlock {
  number: number;
  hash: string;
  parentHash: string;
  timestamp: Date;
  transactions: EvmTx[];
}

export interface EvmLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  logIndex: number;
}

interface RawBlock {
  number: string;
  hash: string;
  parentHash: string;
  timestamp: string;
  transactions: Array<{ hash: string; from: string; to: string | null; value: string }> | string[];
}

interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  logIndex: string;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** Providers word their "range too large / too many results" refusals differently. */
const RANGE_REFUSAL = /range|limit|too many|more than|exceed|too large|response size/i;

/**
 * The calls the EVM watcher makes, typed, on top of the resilient RPC client. Quantities arrive as
 * hex strings and are converted exactly: amounts to bigint, heights to number (safe far beyond any
 * chain's height).
 */
export class EvmNode {
  /** getLogs calls split in half after a provider refused a range (for the metrics and tests). */
  splits = 0;

  constructor(
    readonly rpc: EvmRpc,
    readonly network: NetworkDefinition,
    /** Widest block range asked of eth_getLogs at once (providers cap it, often 1,000–10,000). */
    readonly maxLogRange = 1000,
  ) {}

  async chainId(): Promise<number> {
    return Number(BigInt(await this.rpc.call<string>('eth_chainId')));
  }

  /** The tip, and the network's finality tag block when its rule is a tag (one batched request). */
  async head(): Promise<{ height: number; hash: string; finalized: number | null; syncing: boolean }> {
    const tag = this.network.finality.kind === 'tag' ? this.network.finality.tag : null;
    const calls: Array<{ method: string; params: unknown[] }> = [
      { method: 'eth_syncing', params: [] },
      { method: 'eth_getBlockByNumber', params: ['latest', false] },
    ];
    if (tag) calls.push({ method: 'eth_getBlockByNumber', params: [tag, false] });
    const [syncing, latest, final] = (await this.rpc.batch(calls)) as [
      unknown,
      RawBlock | null,
      RawBlock | null | undefined,
    ];
    if (!latest) throw new Error('the node has no latest block');
    return {
      // eth_syncing is false, or an object with progress while the node catches up.
      syncing: syncing !== false,
      height: Number(BigInt(latest.number)),
      hash: latest.hash,
      // A node without the tag yet (fresh chain) has finalized nothing.
      finalized: tag ? (final ? Number(BigInt(final.number)) : -1) : null,
    };
  }

  /** Block hashes at the given heights (null above the tip), in one batched round trip. */
  async hashesAt(heights: readonly number[]): Promise<Array<string | null>> {
    const blocks = await this.rpc.batch<RawBlock | null>(
      heights.map((h) => ({ method: 'eth_getBlockByNumber', params: [hex(h), false] })),
    );
    return blocks.map((b) => b?.hash ?? null);
  }

  /** Blocks `from..to` with their transactions (to find native coin transfers). */
  async blocks(from: number, to: number): Promise<EvmBlock[]> {
    const calls = [];
    for (let h = from; h <= to; h++) calls.push({ method: 'eth_getBlockByNumber', params: [hex(h), true] });
    const raw = await this.rpc.batch<RawBlock | null>(calls);
    const blocks: EvmBlock[] = [];
    for (const b of raw) {
      if (!b) break; // past the tip (the chain shrank between calls): stop at what exists
      blocks.push({
        number: Number(BigInt(b.number)),
        hash: b.hash,
        parentHash: b.parentHash,
        timestamp: new Date(Number(BigInt(b.timestamp)) * 1000),
        transactions: (b.transactions as Array<Exclude<RawBlock['transactions'][number], string>>).map(
          (t) => ({ hash: t.hash, from: t.from, to: t.to, value: BigInt(t.value) }),
        ),
      });
    }
    return blocks;
  }

  /**
   * Transfer logs of the given token contracts in `from..to`, in ranges of at most `maxLogRange`
   * blocks, each halved again whenever the provider refuses it as too large. Every eth_getLogs is
   * batched with the header of its range's last block, so the same node that answered the logs
   * vouches for the chain they came from: the caller compares these anchors with the headers it
   * processes, and a lagging fallback node (which would answer "no logs" for blocks it does not
   * have yet) or a reorg between the calls is caught instead of silently missing a payment.
   */
  async transferLogs(
    from: number,
    to: number,
    contracts: readonly string[],
  ): Promise<{ logs: EvmLog[]; anchors: Array<{ height: number; hash: string | null }> }> {
    const out = { logs: [] as EvmLog[], anchors: [] as Array<{ height: number; hash: string | null }> };
    if (contracts.length === 0 || from > to) return out;
    for (let start = from; start <= to; start += this.maxLogRange) {
      await this.logsIn(start, Math.min(to, start + this.maxLogRange - 1), contracts, out);
    }
    return out;
  }

  private async logsIn(
    from: number,
    to: number,
    contracts: readonly string[],
    out: { logs: EvmLog[]; anchors: Array<{ height: number; hash: string | null }> },
  ): Promise<void> {
    try {
      const [raw, anchor] = (await this.rpc.batch([
        {
          method: 'eth_getLogs',
          params: [{ fromBlock: hex(from), toBlock: hex(to), address: contracts, topics: [TRANSFER_TOPIC] }],
        },
        { method: 'eth_getBlockByNumber', params: [hex(to), false] },
      ])) as [RawLog[], RawBlock | null];
      out.anchors.push({ height: to, hash: anchor?.hash ?? null });
      for (const l of raw) {
        out.logs.push({
          address: l.address,
          topics: l.topics,
          data: l.data,
          blockNumber: Number(BigInt(l.blockNumber)),
          blockHash: l.blockHash,
          transactionHash: l.transactionHash,
          logIndex: Number(BigInt(l.logIndex)),
        });
      }
    } catch (error) {
      const refused =
        (error instanceof RpcResponseError || error instanceof RpcUnavailableError) &&
        RANGE_REFUSAL.test(error.message);
      if (!refused || from === to) throw error;
      this.splits += 1;
      const mid = from + Math.floor((to - from) / 2);
      await this.logsIn(from, mid, contracts, out);
      await this.logsIn(mid + 1, to, contracts, out);
    }
  }

  /** Whether each transaction succeeded (a reverted transaction moved no value). */
  async succeeded(hashes: readonly string[]): Promise<boolean[]> {
    return (await this.receipts(hashes)).map((r) => r.succeeded);
  }

  /**
   * Each transaction's outcome and what it cost its sender in the native coin's base units (gas,
   * plus the L1 data and operator fees on OP-stack chains: receipt-fee.ts), from its receipt, in
   * one batched round trip.
   */
  async receipts(hashes: readonly string[]): Promise<Array<{ succeeded: boolean; fee: bigint }>> {
    if (hashes.length === 0) return [];
    const receipts = await this.rpc.batch<(FeeReceipt & { status: string }) | null>(
      hashes.map((h) => ({ method: 'eth_getTransactionReceipt', params: [h] })),
    );
    return receipts.map((r) => {
      if (!r) throw new Error('a mined transaction has no receipt');
      return { succeeded: r.status === '0x1', fee: receiptFee(r) };
    });
  }

  /** Whether the node still knows a transaction (mined or pending), after a reorg. */
  async knowsTransaction(hash: string): Promise<boolean> {
    return (await this.rpc.call<unknown>('eth_getTransactionByHash', [hash])) !== null;
  }

  /** decimals() of each token contract; null where there is no contract or no answer. */
  async decimals(contracts: readonly string[]): Promise<Array<number | null>> {
    const answers = await this.rpc.batch<string>(
      contracts.map((c) => ({ method: 'eth_call', params: [{ to: c, data: '0x313ce567' }, 'latest'] })),
    );
    return answers.map((a) =>
      typeof a === 'string' && a.length >= 66 ? Number(BigInt(a.slice(0, 66))) : null,
    );
  }
}
