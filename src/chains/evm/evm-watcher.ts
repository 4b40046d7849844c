import type { Tally } from '../../context.ts';
import { type AssetDefinition, getNetwork, listAssets, type NetworkDefinition } from '../../core/registry.ts';
import { forgetPendingOutflowsInBlock } from '../../settlement/pending-outflows.ts';
import { recordEvmMovement } from '../../settlement/record-evm-movement.ts';
import { reverseMovementsInBlock } from '../../settlement/reverse-movement.ts';
import { disconnectAbove, type ProcessedBlock, recentBlocks, recordBlock } from '../bitcoin/chain-store.ts';
import { firstSeenInBlock, reorgBlock } from '../bitcoin/payment-facts.ts';
import { PollingWatcher } from '../polling-watcher.ts';
import { type EvmTransfer, matchNativeTransfers, matchTransferLogs, NATIVE_OUTPUT_INDEX } from './detect.ts';
import { matchOutgoingLogs, matchOutgoingNative } from './detect-outgoing.ts';
import {
  type BlockContext,
  recordTransfers,
  refreshConfirmations,
  removeVanished,
  unminedPayments,
} from './evm-facts.ts';
import type { EvmBlock, EvmLog, EvmNode } from './evm-node.ts';
import { EvmWatchSet } from './watch-set.ts';

export interface EvmWatcherOptions {
  network: string;
  node: EvmNode;
  pollIntervalMs: number;
  /** First block to scan when no cursor exists yet (default: the node's tip at first start). */
  startHeight?: number;
  /** Blocks processed per poll, so a long catch-up still refreshes the status. */
  maxBlocksPerPoll?: number;
  /** Blocks fetched per round trip (headers batched, logs in one eth_getLogs). */
  blocksPerFetch?: number;
}

/** The node serves another chain than the network we were told, or a token is not what the registry says. */
export class NodeMismatchError extends Error {}

/**
 * Watches one EVM network. Each poll: read the tip (and the finality tag); if our last block's hash
 * is no longer the node's at that height, roll back to the fork point; then fetch new blocks with
 * their transactions and the Transfer logs of the allow-listed tokens, match both against every
 * EVM invoice address — as recipient (payments) and as sender (outgoing movements: sweeps, refunds)
 * — and write each block's facts and movements together with the cursor in one transaction.
 * Movements of a block that leaves the chain are reversed in the roll-back's transaction.
 * Reorgs are found by comparing stored hashes, never by `removed` flags on logs. Any RPC failure
 * leaves the database as it was and shows in the status (fail closed).
 */
export class EvmWatcher extends PollingWatcher {
  private readonly definition: NetworkDefinition;
  private readonly tokens: Map<string, AssetDefinition>;
  private readonly native: AssetDefinition;
  private readonly watchSet = new EvmWatchSet();
  private verified = false;

  constructor(
    tally: Tally,
    private readonly options: EvmWatcherOptions,
  ) {
    super(tally, options.network, options.pollIntervalMs);
    this.definition = getNetwork(options.network);
    if (this.definition.family !== 'evm' || this.definition.chainId === undefined) {
      throw new Error(`${options.network} is not an EVM network`);
    }
    const assets = listAssets().filter((a) => a.network === options.network);
    this.tokens = new Map(
      assets.filter((a) => a.contract !== null).map((a) => [(a.contract as string).toLowerCase(), a]),
    );
    const native = assets.find((a) => a.contract === null);
    if (!native) throw new Error(`${options.network} has no native asset in the registry`);
    this.native = native;
  }

  protected watchedAddresses(): number {
    return this.watchSet.size;
  }

  protected async poll(startedAt: Date): Promise<void> {
    const { node } = this.options;
    if (!this.verified) await this.verifyNode();
    const head = await node.head();
    this.state.nodeHeight = head.height;
    this.state.syncing = head.syncing;
    if (head.syncing) {
      this.state.caughtUp = false;
      return;
    }
    await this.watchSet.refresh(this.tally.database.db);
    let cursor = await this.cursor(head.height);
    const [hashAtCursor] = await node.hashesAt([cursor.height]);
    if (cursor.height > head.height || hashAtCursor !== cursor.hash) cursor = await this.rollBack();
    await this.dropVanished();
    const limit = this.options.maxBlocksPerPoll ?? 500;
    const perFetch = this.options.blocksPerFetch ?? 50;
    let processed = 0;
    while (cursor.height < head.height && processed < limit) {
      const from = cursor.height + 1;
      const to = Math.min(head.height, from + perFetch - 1, cursor.height + limit - processed);
      const blocks = await node.blocks(from, to);
      const last = blocks.at(-1);
      if (!last) break;
      const { logs, anchors } = await node.transferLogs(from, last.number, [...this.tokens.keys()]);
      const verified = this.consistentPrefix(cursor, blocks, logs, anchors);
      for (const block of verified) {
        await this.processBlock(block, logs, head.finalized);
        cursor = { height: block.number, hash: block.hash };
        processed += 1;
      }
      // The chain moved under us: the next poll compares hashes and rolls back first.
      if (verified.length < blocks.length) break;
    }
    this.state.cursorHeight = cursor.height;
    this.state.caughtUp = cursor.hash === head.hash;
    if (this.state.caughtUp) this.state.lastSyncedAt = startedAt;
  }

  /**
   * The node must serve the chain id the registry gives this network, and every allow-listed token
   * must report the decimals the registry uses for amounts. Otherwise nothing is read: amounts
   * would be misread, or money on another chain taken for this one.
   */
  private async verifyNode(): Promise<void> {
    const { node } = this.options;
    const chainId = await node.chainId();
    if (chainId !== this.definition.chainId) {
      throw new NodeMismatchError(
        `${this.network}: the node serves chain id ${chainId}, the registry says ${this.definition.chainId}`,
      );
    }
    const tokens = [...this.tokens.values()];
    const decimals = await node.decimals(tokens.map((t) => t.contract as string));
    tokens.forEach((token, i) => {
      if (decimals[i] !== token.decimals) {
        throw new NodeMismatchError(
          `${this.network}: ${token.code} at ${token.contract} reports ${decimals[i] ?? 'no'} decimals, the registry says ${token.decimals}`,
        );
      }
    });
    this.verified = true;
  }

  /**
   * The blocks that extend the cursor hash by hash and agree with the logs: a log naming another
   * hash for its block, or a range whose anchor (its last block, as the node that answered the logs
   * sees it) differs, means the chain moved between the calls or a lagging node answered. Blocks
   * from there on are left for the next poll, which compares hashes and rolls back if needed.
   */
  private consistentPrefix(
    cursor: ProcessedBlock,
    blocks: readonly EvmBlock[],
    logs: readonly EvmLog[],
    anchors: ReadonlyArray<{ height: number; hash: string | null }>,
  ): EvmBlock[] {
    const hashAt = new Map(blocks.map((b) => [b.number, b.hash]));
    let firstBad = Number.POSITIVE_INFINITY;
    let rangeStart = cursor.height + 1;
    for (const anchor of [...anchors].sort((x, y) => x.height - y.height)) {
      if (hashAt.get(anchor.height) !== anchor.hash) firstBad = Math.min(firstBad, rangeStart);
      rangeStart = anchor.height + 1;
    }
    for (const log of logs) {
      if (hashAt.get(log.blockNumber) !== log.blockHash) firstBad = Math.min(firstBad, log.blockNumber);
    }
    const out: EvmBlock[] = [];
    let prev = cursor.hash;
    for (const block of blocks) {
      if (block.parentHash !== prev || block.number >= firstBad) break;
      out.push(block);
      prev = block.hash;
    }
    return out;
  }

  private async processBlock(
    block: EvmBlock,
    logs: readonly EvmLog[],
    finalized: number | null,
  ): Promise<void> {
    const own = logs.filter((l) => l.blockNumber === block.number);
    const transfers: EvmTransfer[] = [
      ...matchNativeTransfers(this.network, block, this.native, this.watchSet),
      ...matchTransferLogs(this.network, own, this.tokens, this.watchSet),
    ];
    const outflows = [
      ...matchOutgoingNative(block, this.native, this.watchSet),
      ...matchOutgoingLogs(own, this.tokens, this.watchSet),
    ];
    // Native transfers in or out need their receipt: a reverted transaction keeps its value field
    // but moved nothing, and an outgoing one's gas is its movement's fee.
    const nativeTxids = [
      ...new Set(
        [...transfers, ...outflows].filter((t) => t.index === NATIVE_OUTPUT_INDEX).map((t) => t.txid),
      ),
    ];
    const receipts = await this.options.node.receipts(nativeTxids);
    const receiptOf = new Map(nativeTxids.map((txid, i) => [txid, receipts[i]]));
    const moved = (t: { index: number; txid: string }) =>
      t.index !== NATIVE_OUTPUT_INDEX || receiptOf.get(t.txid)?.succeeded === true;
    const credited = transfers.filter(moved);
    // A reverted native transaction sent nothing but burned its gas at the address: a fee-only
    // movement, or the books would hold more there than the chain.
    const leaving = outflows.map((t) => (moved(t) ? t : { ...t, amount: 0n, reverted: true }));
    const at: BlockContext = {
      network: this.definition,
      hash: block.hash,
      height: block.number,
      time: block.timestamp,
      tipHeight: block.number,
      finalizedHeight: finalized,
      notBefore: this.state.lastSyncedAt,
    };
    const seenAt = firstSeenInBlock(at, this.tally.clock.now());
    await this.tally.database.write(async (trx) => {
      await recordTransfers(this.tally, trx, credited, at);
      // After the block's payments, so money received and sent on in one block is linked to it.
      for (const out of leaving) {
        const fee = out.index === NATIVE_OUTPUT_INDEX ? (receiptOf.get(out.txid)?.fee ?? 0n) : 0n;
        await recordEvmMovement(this.tally, trx, this.network, out, fee, {
          hash: block.hash,
          height: block.number,
          seenAt,
        });
      }
      await refreshConfirmations(this.tally, trx, at);
      await recordBlock(
        trx,
        this.network,
        { height: block.number, hash: block.hash, prevHash: block.parentHash },
        this.tally.clock.now(),
      );
    });
  }

  /** The last processed block; on first start, the block before `startHeight` (default: the tip). */
  private async cursor(tipHeight: number): Promise<ProcessedBlock> {
    const [last] = await recentBlocks(this.tally.database.db, this.network);
    if (last) return last;
    const base = Math.max(0, (this.options.startHeight ?? tipHeight) - 1);
    const [block] = await this.options.node.blocks(base, base);
    if (!block) throw new Error(`start height ${base} is above the node's tip`);
    await this.tally.database.write((trx) =>
      recordBlock(
        trx,
        this.network,
        { height: base, hash: block.hash, prevHash: block.parentHash },
        this.tally.clock.now(),
      ),
    );
    this.tally.log.info({ network: this.network, height: base + 1 }, 'EVM watcher starts scanning');
    return { height: base, hash: block.hash };
  }

  /** Finds the newest processed block still on the node's chain and unwinds everything above it. */
  private async rollBack(): Promise<ProcessedBlock> {
    const recent = await recentBlocks(this.tally.database.db, this.network);
    const hashes = await this.options.node.hashesAt(recent.map((b) => b.height));
    const fork = recent.find((b, i) => hashes[i] === b.hash);
    if (!fork) {
      throw new Error(
        `${this.network}: none of the last ${recent.length} processed blocks is on the node's chain; stopping`,
      );
    }
    const disconnected = recent.filter((b) => b.height > fork.height);
    await this.tally.database.write(async (trx) => {
      for (const block of disconnected) {
        await reorgBlock(this.tally, trx, this.network, block.hash);
        await reverseMovementsInBlock(this.tally, trx, this.network, block.hash);
        await forgetPendingOutflowsInBlock(trx, this.network, block.hash);
      }
      await disconnectAbove(trx, this.network, fork.height);
    });
    this.tally.log.warn(
      { network: this.network, fork: fork.height, disconnected: disconnected.map((b) => b.hash) },
      'reorg: blocks disconnected',
    );
    return fork;
  }

  /**
   * Payments a reorg left without a block whose transaction the node no longer knows (neither
   * re-mined nor pending) are removed: that money does not exist. Pending ones wait to be mined.
   */
  private async dropVanished(): Promise<void> {
    const unmined = await unminedPayments(this.tally.database.db, this.network);
    for (const payment of unmined) {
      if (await this.options.node.knowsTransaction(payment.txid)) continue;
      await this.tally.database.write((trx) => removeVanished(this.tally, trx, payment));
    }
  }
}
