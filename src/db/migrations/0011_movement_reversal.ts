import { type Kysely, sql } from 'kysely';
import type { ColumnTypes } from './column-types.ts';

/**
 * Outgoing movements on EVM networks and reversal on reorgs (docs/decisions/0011, §12).
 * Numbered 0011 so 0010 stays free for a colleague's migration.
 *
 * - `log_index`: a movement is now one per (network, txid, log_index, merchant). Bitcoin movements
 *   and EVM native-coin transfers are the transaction itself (-1, like payments' NATIVE_OUTPUT_INDEX);
 *   an ERC-20 movement is its Transfer log. One EVM transaction can emit several such logs.
 * - `removed`/`removed_at`: a movement whose block left the best chain is reversed by a new ledger
 *   transaction and flagged removed, never deleted or edited; if the same transaction is mined
 *   again it is a new movement row. So the uniqueness holds among live movements only (a partial
 *   index). SQLite cannot drop the old table constraint, so the table is rebuilt (same data) on both
 *   dialects with the portable schema builder.
 * - A movement now has up to two ledger transactions (its booking and its reversal): the unique
 *   index on ledger_transactions.movement_id becomes unique per (movement_id, kind).
 *
 * Every step can run again: Kysely runs SQLite migrations outside a transaction (PostgreSQL's run
 * in one), so a crash half way left a database this migration then failed on. The rebuild looks at
 * what it finds — not rebuilt yet (a leftover copy is dropped and made again), the old table
 * dropped but the copy not yet renamed (renamed now: it holds every row), or done (skipped) — and
 * each index is created if missing, the replaced one dropped if present.
 */
export async function up(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  const tables = new Map((await db.introspection.getTables()).map((x) => [x.name, x]));
  const current = tables.get('settlement_movements');
  const rebuilt = current?.columns.some((c) => c.name === 'removed') === true;
  if (current && !rebuilt) await rebuild(db, t, tables.has('settlement_movements_next'));
  else if (!current) {
    // Crashed between the drop and the rename: the copy is complete (one INSERT … SELECT).
    await db.schema.alterTable('settlement_movements_next').renameTo('settlement_movements').execute();
  }
  await db.schema
    .createIndex('settlement_movements_live')
    .ifNotExists()
    .on('settlement_movements')
    .columns(['network', 'txid', 'log_index', 'merchant_id'])
    .unique()
    .where(sql.ref('removed'), '=', 0)
    .execute();
  await db.schema
    .createIndex('settlement_movements_unbatched')
    .ifNotExists()
    .on('settlement_movements')
    .columns(['merchant_id', 'batch_id', 'seen_at'])
    .execute();
  await db.schema
    .createIndex('settlement_movements_block')
    .ifNotExists()
    .on('settlement_movements')
    .columns(['network', 'block_hash'])
    .execute();
  await db.schema
    .createIndex('settlement_movements_refund')
    .ifNotExists()
    .on('settlement_movements')
    .column('refund_id')
    .execute();

  await db.schema.dropIndex('ledger_transactions_movement').ifExists().execute();
  await db.schema
    .createIndex('ledger_transactions_movement_kind')
    .ifNotExists()
    .on('ledger_transactions')
    .columns(['movement_id', 'kind'])
    .unique()
    .execute();
}

/** Copies settlement_movements into the new shape and swaps it in (a stale copy dropped first). */
async function rebuild(db: Kysely<unknown>, t: ColumnTypes, staleCopy: boolean): Promise<void> {
  if (staleCopy) await db.schema.dropTable('settlement_movements_next').execute();
  await db.schema
    .createTable('settlement_movements_next')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('txid', 'text', (c) => c.notNull())
    .addColumn('log_index', 'integer', (c) => c.notNull().defaultTo(-1))
    .addColumn('block_hash', 'text')
    .addColumn('block_height', 'integer')
    .addColumn('inputs_value', t.amount, (c) => c.notNull())
    .addColumn('refunded', t.amount, (c) => c.notNull())
    .addColumn('swept', t.amount, (c) => c.notNull())
    .addColumn('fee', t.amount, (c) => c.notNull())
    .addColumn('outputs', 'text', (c) => c.notNull())
    .addColumn('refund_id', 'text')
    .addColumn('batch_id', 'text')
    .addColumn('seen_at', t.time, (c) => c.notNull())
    .addColumn('removed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('removed_at', t.time)
    .execute();
  await sql`insert into settlement_movements_next
      (id, merchant_id, network, asset, txid, block_hash, block_height, inputs_value, refunded, swept,
       fee, outputs, refund_id, batch_id, seen_at)
    select id, merchant_id, network, asset, txid, block_hash, block_height, inputs_value, refunded,
       swept, fee, outputs, refund_id, batch_id, seen_at
    from settlement_movements`.execute(db);
  await db.schema.dropTable('settlement_movements').execute();
  await db.schema.alterTable('settlement_movements_next').renameTo('settlement_movements').execute();
}
