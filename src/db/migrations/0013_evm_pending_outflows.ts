import type { Kysely } from 'kysely';
import type { ColumnTypes } from './column-types.ts';

/**
 * Transfers out of EVM invoice addresses that the watcher saw mined and left to the refund job
 * (docs/decisions/0011 §17): remembered here until a movement books them — the refund's, once the
 * job completes it, or a sweep's when no approved refund awaits them any more (cancelled, rebuilt,
 * or paid by another transfer). Without the row, a transfer whose refund never completed from it
 * was never looked at again and its money left the books' view for good.
 * One row per (network, tx hash, log index: -1 for a native transfer); removed with the block
 * when a reorg disconnects it. Idempotent steps, as 0011 (SQLite runs migrations outside a transaction).
 */
export async function up(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('evm_pending_outflows')
    .ifNotExists()
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('txid', 'text', (c) => c.notNull())
    .addColumn('log_index', 'integer', (c) => c.notNull())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('option_id', 'text', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('from_address', 'text', (c) => c.notNull())
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('amount', t.amount, (c) => c.notNull())
    .addColumn('fee', t.amount, (c) => c.notNull())
    .addColumn('block_hash', 'text', (c) => c.notNull())
    .addColumn('block_height', 'integer', (c) => c.notNull())
    .addColumn('seen_at', t.time, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('evm_pending_outflows_pk', ['network', 'txid', 'log_index'])
    .execute();
  await db.schema
    .createIndex('evm_pending_outflows_block')
    .ifNotExists()
    .on('evm_pending_outflows')
    .columns(['network', 'block_hash'])
    .execute();
}
