import type { Transaction } from 'kysely';
import type { Tally } from '../../context.ts';
import type { Schema } from '../../db/schema.ts';
import { recordMovement } from '../../settlement/record-movement.ts';
import { reverseMovementsInBlock } from '../../settlement/reverse-movement.ts';
import { unspentPaymentOutpoints } from '../../settlement/unspent-outpoints.ts';
import { PollingWatcher } from '../polling-watcher.ts';
import type { BitcoinNode } from './bitcoin-node.ts';
import {
  disconnectAbove,
  forgetWatchedTx,
  loadWatchedTxs,
  markMissing,
  outpoint,
  type ProcessedBlock,
  recentBlocks,
  recordBlock,
  upsertWatchedTx,
  type WatchedTx,
} from './chain-store.ts';
import { type Detection, detect } from './detect.ts';
import {
  firstSeenInBlock,
  type Inclusion,
  recordOutputs,
  refreshConfirmations,
  removeTransaction,
  reorgBlock,
} from './payment-facts.ts';
import type { BitcoinBlock } from './raw-block.ts';
import type { BitcoinTx } from './raw-transaction.ts';
import { WatchSet } from './watch-set.ts';

export interface BitcoinWatcherOptions {
  network: string;
  node: BitcoinNode;
  /** How often the node is asked for a new tip and new mempool entries. */
  pollIntervalMs: number;
  /** First height to scan when no cursor exists yet (default: the node's tip at first start). */
  startHeight?: number;
  /** A watched unconfirmed transaction absent from the mempool this long is treated as dropped. */
  droppedAfterMs: number;
  /** Blocks processed per poll, so a long catch-up still refreshes the mempool and the health. */
  maxBlocksPerPoll?: number;
}

const MEMPOOL_READ_PER_POLL = 5_000;

/** The node's history diverged from ours deeper than the cursor remembers: an operator must look. */
export class ReorgTooDeepError extends Error {}

/**
 * Watches one Bitcoin network through a node. Each poll: read the node's tip; if our last block is
 * no longer on its chain, roll back to the fork point; process each new block in its own
 * transaction together with the cursor; then read new mempool entries. Any failure leaves the
 * database as it was (fail closed) and the next poll starts again from the persisted cursor.
 */
export class BitcoinWatcher extends PollingWatcher {
  private readonly watchSet: WatchSet;
  private watched = new Map<string, WatchedTx>();
  private spentBy = new Map<string, string>();
  /** Outpoints of recorded payments not yet spent: a transaction spending one is an outgoing movement. */
  private owned = new Set<string>();
  private mempoolSeen = new Set<string>();
  /** Mempool transactions signalling replaceability themselves or through an unconfirmed parent. */
  private mempoolRbf = new Set<string>();

  constructor(
    tally: Tally,
    private readonly options: BitcoinWatcherOptions,
  ) {
    super(tally, options.network, options.pollIntervalMs);
    this.watchSet = new WatchSet(options.network);
  }

  protected watchedAddresses(): number {
    return this.watchSet.size;
  }

  protected async poll(startedAt: Date): Promise<void> {
    const { node } = this.options;
    if (this.state.nodeHeight === null) {
      await node.checkGenesis();
      await this.reloadWatchedTxs();
      this.owned = await unspentPaymentOutpoints(this.tally.database.db, this.network);
    }
    const tip = await node.status();
    this.state.nodeHeight = tip.height;
    this.state.syncing = tip.syncing;
    // A syncing node's tip and mempool are incomplete: nothing it says may move an invoice.
    if (tip.syncing) {
      this.state.caughtUp = false;
      return;
    }
    await this.watchSet.refresh(this.tally.database.db);
    let cursor = await this.cursor(tip.height);
    if (cursor.height > tip.height || (await node.blockHashAt(cursor.height)) !== cursor.hash) {
      cursor = await this.rollBack();
    }
    const limit = this.options.maxBlocksPerPoll ?? 100;
    let processed = 0;
    while (cursor.height < tip.height && processed < limit) {
      const hash = await node.blockHashAt(cursor.height + 1);
      if (hash === null) break;
      const block = await node.block(hash);
      // The chain moved under us between calls: the next poll rolls back first.
      if (block.prevHash !== cursor.hash) break;
      // An invoice created a moment ago may already be paid in this block.
      await this.watchSet.refresh(this.tally.database.db);
      await this.processBlock(cursor.height + 1, block);
      cursor = { height: cursor.height + 1, hash };
      processed += 1;
    }
    this.state.cursorHeight = cursor.height;
    await this.processMempool();
    this.state.caughtUp = cursor.hash === tip.hash;
    if (this.state.caughtUp) this.state.lastSyncedAt = startedAt;
  }

  /** The last processed block; on first start, the block before `startHeight` (default: the tip). */
  private async cursor(tipHeight: number): Promise<ProcessedBlock> {
    const [last] = await recentBlocks(this.tally.database.db, this.network);
    if (last) return last;
    const base = Math.max(0, (this.options.startHeight ?? tipHeight) - 1);
    const hash = await this.options.node.blockHashAt(base);
    if (hash === null) throw new Error(`start height ${base} is above the node's tip`);
    const prevHash = await this.options.node.previousHash(hash);
    await this.tally.database.write((trx) =>
      recordBlock(trx, this.network, { height: base, hash, prevHash }, this.tally.clock.now()),
    );
    this.tally.log.info({ network: this.network, height: base + 1 }, 'chain watcher starts scanning');
    return { height: base, hash };
  }

  /** Finds the newest processed block still on the node's chain and unwinds everything above it. */
  private async rollBack(): Promise<ProcessedBlock> {
    const recent = await recentBlocks(this.tally.database.db, this.network);
    let fork: ProcessedBlock | undefined;
    for (const block of recent) {
      if ((await this.options.node.blockHashAt(block.height)) === block.hash) {
        fork = block;
        break;
      }
    }
    if (!fork) {
      throw new ReorgTooDeepError(
        `${this.network}: none of the last ${recent.length} processed blocks is on the node's chain; stopping`,
      );
    }
    const forkPoint = fork;
    const disconnected = recent.filter((b) => b.height > forkPoint.height);
    await this.tally.database.write(async (trx) => {
      for (const block of disconnected) {
        await reorgBlock(this.tally, trx, this.network, block.hash);
        await reverseMovementsInBlock(this.tally, trx, this.network, block.hash);
      }
      await disconnectAbove(trx, this.network, forkPoint.height);
    });
    // A reversed movement's outpoints are unspent again: its transaction, mined again, is a new movement.
    this.owned = await unspentPaymentOutpoints(this.tally.database.db, this.network);
    this.tally.log.warn(
      { network: this.network, fork: forkPoint.height, disconnected: disconnected.map((b) => b.hash) },
      'reorg: blocks disconnected',
    );
    await this.reloadWatchedTxs();
    return forkPoint;
  }

  private async processBlock(height: number, block: BitcoinBlock): Promise<void> {
    const detection = detect(block.transactions, this.watchSet, this.spentBy, this.owned);
    const at: Inclusion = {
      hash: block.hash,
      height,
      time: block.time,
      tipHeight: height,
      notBefore: this.state.lastSyncedAt,
    };
    await this.tally.database.write(async (trx) => {
      await this.applyDetection(trx, detection, at, 'double_spent');
      // Movements are booked when mined (a mempool spend can still be replaced by the merchant).
      const seenAt = firstSeenInBlock(at, this.tally.clock.now());
      for (const spend of detection.spends)
        await recordMovement(this.tally, trx, this.network, spend.tx, spend.outpoints, {
          hash: block.hash,
          height,
          seenAt,
        });
      await refreshConfirmations(this.tally, trx, this.network, height);
      await recordBlock(
        trx,
        this.network,
        { height, hash: block.hash, prevHash: block.prevHash },
        this.tally.clock.now(),
      );
    });
    for (const spend of detection.spends) for (const point of spend.outpoints) this.owned.delete(point);
    for (const tx of block.transactions) {
      this.mempoolSeen.delete(tx.txid);
      this.mempoolRbf.delete(tx.txid);
    }
    // Only a block that paid, conflicted with or confirmed a watched transaction changes that set.
    const confirmedWatched = block.transactions.some((tx) => this.watched.has(tx.txid));
    if (detection.payments.length > 0 || detection.conflicts.length > 0 || confirmedWatched) {
      await this.reloadWatchedTxs();
    }
  }

  private async applyDetection(
    trx: Transaction<Schema>,
    detection: Detection,
    at: Inclusion | null,
    conflictReason: 'replaced' | 'double_spent',
  ): Promise<void> {
    const now = this.tally.clock.now();
    // Conflicts first: a replacement that pays the same invoice takes over the payment it
    // replaces instead of being counted as a second payment.
    for (const conflict of detection.conflicts) {
      const outputs = detection.payments.find((p) => p.tx.txid === conflict.by.txid)?.outputs ?? [];
      const rbf = this.signalsRbf(conflict.by);
      await removeTransaction(this.tally, trx, this.network, conflict.replacedTxid, conflictReason, {
        tx: conflict.by,
        outputs,
        at,
        rbf,
      });
      await forgetWatchedTx(trx, this.network, conflict.replacedTxid);
    }
    for (const { tx, outputs } of detection.payments) {
      await recordOutputs(this.tally, trx, this.network, tx, outputs, at, this.signalsRbf(tx));
      for (const o of outputs) this.owned.add(outpoint(tx.txid, o.outputIndex));
      await upsertWatchedTx(trx, this.network, tx, at ? { hash: at.hash, height: at.height } : null, now);
    }
  }

  private signalsRbf(tx: BitcoinTx): boolean {
    return tx.rbf || tx.inputs.some((input) => this.mempoolRbf.has(input.prevTxid));
  }

  private async processMempool(): Promise<void> {
    const { node } = this.options;
    const txids = await node.mempoolTxids();
    // After the txid list: every address handed out before those payments were broadcast is loaded.
    await this.watchSet.refresh(this.tally.database.db);
    const inMempool = new Set(txids);
    // Bounded per poll, so a first read of a large mempool does not hold up the next block.
    const unseen = txids.filter((txid) => !this.mempoolSeen.has(txid)).slice(0, MEMPOOL_READ_PER_POLL);
    const fresh = await node.transactions(unseen);
    // Parents before children, so inherited replaceability is known when a child is judged.
    for (const tx of fresh) if (tx.rbf) this.mempoolRbf.add(tx.txid);
    for (const tx of fresh) if (this.signalsRbf(tx)) this.mempoolRbf.add(tx.txid);
    const detection = detect(fresh, this.watchSet, this.spentBy);
    const now = this.tally.clock.now();
    const replaced = new Set(detection.conflicts.map((c) => c.replacedTxid));
    const missing = [...this.watched.values()].filter(
      (w) => w.blockHash === null && !inMempool.has(w.txid) && !replaced.has(w.txid),
    );
    const returned = [...this.watched.values()].filter(
      (w) => w.missingSince !== null && inMempool.has(w.txid),
    );
    const dropped = missing.filter(
      (w) =>
        w.missingSince !== null && now.getTime() - w.missingSince.getTime() >= this.options.droppedAfterMs,
    );
    const newlyMissing = missing.filter((w) => w.missingSince === null);
    if (
      detection.payments.length +
        detection.conflicts.length +
        dropped.length +
        newlyMissing.length +
        returned.length >
      0
    ) {
      await this.tally.database.write(async (trx) => {
        await this.applyDetection(trx, detection, null, 'replaced');
        for (const w of newlyMissing) await markMissing(trx, this.network, w.txid, now);
        for (const w of returned) await markMissing(trx, this.network, w.txid, null);
        for (const w of dropped) {
          await removeTransaction(this.tally, trx, this.network, w.txid, 'dropped', null);
          await forgetWatchedTx(trx, this.network, w.txid);
        }
      });
      await this.reloadWatchedTxs();
    }
    for (const tx of fresh) this.mempoolSeen.add(tx.txid);
    for (const txid of this.mempoolSeen) if (!inMempool.has(txid)) this.mempoolSeen.delete(txid);
    for (const txid of this.mempoolRbf) if (!inMempool.has(txid)) this.mempoolRbf.delete(txid);
  }

  private async reloadWatchedTxs(): Promise<void> {
    const rows = await loadWatchedTxs(this.tally.database.db, this.network);
    this.watched = new Map(rows.map((w) => [w.txid, w]));
    this.spentBy = new Map();
    for (const w of rows) for (const spent of w.inputs) this.spentBy.set(spent, w.txid);
  }
}
