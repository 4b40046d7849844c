import type { Kysely } from 'kysely';
import type { ColumnTypes } from './column-types.ts';

/**
 * The money trail (issue 7, docs/decisions/0011-money-trail.md): an append-only double-entry
 * ledger, refunds, outgoing movements from invoice addresses grouped into settlement batches, and
 * reconciliation runs. Nothing here is ever updated except a refund's workflow columns and a
 * movement's batch: ledger rows are only inserted, balances are sums over them.
 */
export async function up(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('ledger_transactions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('invoice_id', 'text')
    .addColumn('movement_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('cause', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('ledger_transactions_merchant')
    .on('ledger_transactions')
    .columns(['merchant_id', 'id'])
    .execute();
  // A movement is booked once, whatever races the watcher has with itself.
  await db.schema
    .createIndex('ledger_transactions_movement')
    .on('ledger_transactions')
    .column('movement_id')
    .unique()
    .execute();

  await db.schema
    .createTable('ledger_entries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('transaction_id', 'text', (c) => c.notNull())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('invoice_id', 'text')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('amount', t.amount, (c) => c.notNull())
    .addColumn('fiat_currency', 'text')
    .addColumn('fiat_value', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ledger_entries_invoice').on('ledger_entries').column('invoice_id').execute();
  await db.schema
    .createIndex('ledger_entries_transaction')
    .on('ledger_entries')
    .column('transaction_id')
    .execute();
  await db.schema
    .createIndex('ledger_entries_merchant')
    .on('ledger_entries')
    .columns(['merchant_id', 'asset', 'network', 'account'])
    .execute();

  await db.schema
    .createTable('refunds')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('invoice_id', 'text', (c) => c.notNull())
    .addColumn('option_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('amount', t.amount, (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('destination', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('approved_by', 'text')
    .addColumn('approval_reason', 'text')
    .addColumn('link_token_hash', 'text', (c) => c.unique())
    .addColumn('unsigned_tx', 'text')
    .addColumn('fee_estimate', t.amount)
    .addColumn('send_amount', t.amount)
    .addColumn('txid', 'text')
    .addColumn('fee', t.amount)
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('approved_at', t.time)
    .addColumn('completed_at', t.time)
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('refunds_merchant').on('refunds').columns(['merchant_id', 'id']).execute();
  await db.schema.createIndex('refunds_invoice').on('refunds').column('invoice_id').execute();

  await db.schema
    .createTable('settlement_movements')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('txid', 'text', (c) => c.notNull())
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
    .addUniqueConstraint('settlement_movements_tx', ['network', 'txid', 'merchant_id'])
    .execute();
  await db.schema
    .createIndex('settlement_movements_unbatched')
    .on('settlement_movements')
    .columns(['merchant_id', 'batch_id', 'seen_at'])
    .execute();

  await db.schema
    .createTable('settlement_movement_inputs')
    .addColumn('movement_id', 'text', (c) => c.notNull())
    .addColumn('outpoint', 'text', (c) => c.notNull())
    .addColumn('invoice_id', 'text', (c) => c.notNull())
    .addColumn('payment_id', 'text', (c) => c.notNull())
    .addColumn('amount', t.amount, (c) => c.notNull())
    .addPrimaryKeyConstraint('settlement_movement_inputs_pk', ['movement_id', 'outpoint'])
    .execute();
  await db.schema
    .createIndex('settlement_movement_inputs_payment')
    .on('settlement_movement_inputs')
    .column('payment_id')
    .execute();

  await db.schema
    .createTable('settlement_batches')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('cutoff_at', t.time, (c) => c.notNull())
    .addColumn('movements', 'integer', (c) => c.notNull())
    .addColumn('totals', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('reconciliation_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('from_height', 'integer')
    .addColumn('to_height', 'integer')
    .addColumn('mismatches', 'integer', (c) => c.notNull())
    .addColumn('report', 'text', (c) => c.notNull())
    .addColumn('started_at', t.time, (c) => c.notNull())
    .addColumn('finished_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('payments_seen').on('payments').columns(['seen_at', 'id']).execute();
}
