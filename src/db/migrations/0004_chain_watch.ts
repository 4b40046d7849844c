import type { Kysely } from 'kysely';
import type { ColumnTypes } from './column-types.ts';

/**
 * The chain watcher's durable state. `chain_blocks` is the cursor: one row per processed block of
 * the recent best chain, written in the same transaction as what the block revealed, so a restart
 * resumes at the next block (the primary key makes processing a height twice impossible; a reorg
 * deletes the disconnected rows first). `chain_watched_txs` keeps the inputs of every transaction
 * that pays a watched address until it is buried, because after an RBF replacement or a reorg the
 * node no longer returns the replaced transaction and its inputs are what reveal the conflict.
 */
export async function up(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('chain_blocks')
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('processed_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('chain_blocks_pk', ['network', 'height'])
    .execute();

  await db.schema
    .createTable('chain_watched_txs')
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('txid', 'text', (c) => c.notNull())
    .addColumn('inputs', 'text', (c) => c.notNull())
    .addColumn('block_hash', 'text')
    .addColumn('block_height', 'integer')
    .addColumn('first_seen_at', t.time, (c) => c.notNull())
    .addColumn('missing_since', t.time)
    .addPrimaryKeyConstraint('chain_watched_txs_pk', ['network', 'txid'])
    .execute();

  await db.schema.createIndex('payments_block').on('payments').columns(['network', 'block_hash']).execute();
  await db.schema.createIndex('payments_tx').on('payments').columns(['network', 'txid']).execute();
  await db.schema
    .createIndex('payment_options_network')
    .on('payment_options')
    .columns(['network', 'id'])
    .execute();
}
