import type { Kysely, Transaction } from 'kysely';
import type { Schema } from '../../db/schema.ts';
import { iso, toDateOrNull } from '../../db/values.ts';
import type { BitcoinTx } from './raw-transaction.ts';

type Db = Kysely<Schema> | Transaction<Schema>;

/** How many recent blocks the cursor remembers: a reorg deeper than this stops the watcher. */
export const REORG_WINDOW = 144;

export interface ProcessedBlock {
  height: number;
  hash: string;
}

/** The recent processed chain, highest first. Empty before the first block. */
export async function recentBlocks(db: Db, network: string): Promise<ProcessedBlock[]> {
  return db
    .selectFrom('chain_blocks')
    .select(['height', 'hash'])
    .where('network', '=', network)
    .orderBy('height', 'desc')
    .execute();
}

/**
 * Records a block as processed, in the transaction that wrote what it revealed. The primary key
 * (network, height) refuses a second processing of the same height.
 */
export async function recordBlock(
  trx: Transaction<Schema>,
  network: string,
  block: ProcessedBlock & { prevHash: string },
  now: Date,
): Promise<void> {
  await trx
    .insertInto('chain_blocks')
    .values({
      network,
      height: block.height,
      hash: block.hash,
      prev_hash: block.prevHash,
      processed_at: iso(now),
    })
    .execute();
  await trx
    .deleteFrom('chain_blocks')
    .where('network', '=', network)
    .where('height', '<=', block.height - REORG_WINDOW)
    .execute();
  // Buried deeper than any reorg we follow: the inputs are no longer needed to spot a conflict.
  await trx
    .deleteFrom('chain_watched_txs')
    .where('network', '=', network)
    .where('block_height', '<=', block.height - REORG_WINDOW)
    .execute();
}

/** Forgets blocks above `height` (disconnected by a reorg); their transactions become unconfirmed. */
export async function disconnectAbove(
  trx: Transaction<Schema>,
  network: string,
  height: number,
): Promise<void> {
  await trx.deleteFrom('chain_blocks').where('network', '=', network).where('height', '>', height).execute();
  await trx
    .updateTable('chain_watched_txs')
    .set({ block_hash: null, block_height: null })
    .where('network', '=', network)
    .where('block_height', '>', height)
    .execute();
}

export interface WatchedTx {
  txid: string;
  inputs: string[];
  blockHash: string | null;
  blockHeight: number | null;
  missingSince: Date | null;
}

export const outpoint = (txid: string, vout: number) => `${txid}:${vout}`;

export async function loadWatchedTxs(db: Db, network: string): Promise<WatchedTx[]> {
  const rows = await db.selectFrom('chain_watched_txs').selectAll().where('network', '=', network).execute();
  return rows.map((row) => ({
    txid: row.txid,
    inputs: JSON.parse(row.inputs) as string[],
    blockHash: row.block_hash,
    blockHeight: row.block_height,
    missingSince: toDateOrNull(row.missing_since),
  }));
}

/** Starts watching a paying transaction's inputs, or records the block it was mined in. */
export async function upsertWatchedTx(
  trx: Transaction<Schema>,
  network: string,
  tx: BitcoinTx,
  block: ProcessedBlock | null,
  now: Date,
): Promise<void> {
  const inputs = JSON.stringify(tx.inputs.map((i) => outpoint(i.prevTxid, i.prevVout)));
  await trx
    .insertInto('chain_watched_txs')
    .values({
      network,
      txid: tx.txid,
      inputs,
      block_hash: block?.hash ?? null,
      block_height: block?.height ?? null,
      first_seen_at: iso(now),
      missing_since: null,
    })
    .onConflict((oc) =>
      oc
        .columns(['network', 'txid'])
        // A mempool sighting never clears the block a transaction was mined in; only a reorg does.
        .doUpdateSet(
          block
            ? { block_hash: block.hash, block_height: block.height, missing_since: null }
            : { missing_since: null },
        ),
    )
    .execute();
}

export async function forgetWatchedTx(
  trx: Transaction<Schema>,
  network: string,
  txid: string,
): Promise<void> {
  await trx.deleteFrom('chain_watched_txs').where('network', '=', network).where('txid', '=', txid).execute();
}

export async function markMissing(
  trx: Transaction<Schema>,
  network: string,
  txid: string,
  since: Date | null,
) {
  await trx
    .updateTable('chain_watched_txs')
    .set({ missing_since: since ? iso(since) : null })
    .where('network', '=', network)
    .where('txid', '=', txid)
    .execute();
}
