import type { Kysely } from 'kysely';
import type { ColumnTypes } from './column-types.ts';

/** The first schema. Forward-only: later changes are new files, never edits to this one. */
export async function up(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('merchants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('revoked_at', t.time)
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addUniqueConstraint('users_merchant_email', ['merchant_id', 'email'])
    .execute();

  await db.schema
    .createTable('wallets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('family', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('xpub', 'text', (c) => c.notNull())
    .addColumn('script_type', 'text', (c) => c.notNull())
    .addColumn('label', 'text')
    .addColumn('next_index', 'integer', (c) => c.notNull())
    .addColumn('pool_target', 'integer', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addUniqueConstraint('wallets_merchant_scope', ['merchant_id', 'scope'])
    .execute();

  // One row per derived index. The primary key is the allocator's guarantee: an index exists once,
  // and a row is handed to at most one payment option (option_id set once, under a row lock).
  await db.schema
    .createTable('wallet_addresses')
    .addColumn('wallet_id', 'text', (c) => c.notNull().references('wallets.id'))
    .addColumn('derivation_index', 'integer', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('option_id', 'text', (c) => c.unique())
    .addColumn('allocated_at', t.time)
    .addPrimaryKeyConstraint('wallet_addresses_pk', ['wallet_id', 'derivation_index'])
    .execute();
  await db.schema
    .createIndex('wallet_addresses_free')
    .on('wallet_addresses')
    .columns(['wallet_id', 'option_id', 'derivation_index'])
    .execute();

  await db.schema
    .createTable('invoices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('merchant_order_id', 'text')
    .addColumn('customer_id', 'text')
    .addColumn('description', 'text')
    .addColumn('price_amount', t.amount, (c) => c.notNull())
    .addColumn('price_currency', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('success_url', 'text')
    .addColumn('cancel_url', 'text')
    .addColumn('expires_at', t.time, (c) => c.notNull())
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('selected_option_id', 'text')
    .addColumn('refunded_amount', t.amount, (c) => c.notNull())
    .addColumn('manually_paid', 'integer', (c) => c.notNull())
    .addColumn('sequence', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('fulfilled_at', t.time)
    .addColumn('fulfilment', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('invoices_merchant_id').on('invoices').columns(['merchant_id', 'id']).execute();
  await db.schema
    .createIndex('invoices_merchant_status')
    .on('invoices')
    .columns(['merchant_id', 'status', 'id'])
    .execute();
  await db.schema
    .createIndex('invoices_merchant_order')
    .on('invoices')
    .columns(['merchant_id', 'merchant_order_id'])
    .execute();

  await db.schema
    .createTable('payment_options')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('invoice_id', 'text', (c) => c.notNull().references('invoices.id'))
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('wallet_id', 'text', (c) => c.notNull())
    .addColumn('derivation_index', 'integer', (c) => c.notNull())
    .addColumn('amount_due', t.amount, (c) => c.notNull())
    .addColumn('decimals', 'integer', (c) => c.notNull())
    .addColumn('required_confirmations', 'integer', (c) => c.notNull())
    .addColumn('zero_conf_allowed', 'integer', (c) => c.notNull())
    .addColumn('confirmation_reason', 'text', (c) => c.notNull())
    .addColumn('rate_value', 'text')
    .addColumn('rate_source', 'text')
    .addColumn('rate_fetched_at', t.time)
    .execute();
  await db.schema.createIndex('payment_options_invoice').on('payment_options').column('invoice_id').execute();
  await db.schema.createIndex('payment_options_address').on('payment_options').column('address').execute();

  await db.schema
    .createTable('payments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('invoice_id', 'text', (c) => c.notNull().references('invoices.id'))
    .addColumn('option_id', 'text', (c) => c.notNull())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('txid', 'text', (c) => c.notNull())
    .addColumn('output_index', 'integer', (c) => c.notNull())
    .addColumn('amount', t.amount, (c) => c.notNull())
    .addColumn('confirmations', 'integer', (c) => c.notNull())
    .addColumn('block_hash', 'text')
    .addColumn('block_height', 'integer')
    .addColumn('rbf', 'integer', (c) => c.notNull())
    .addColumn('seen_at', t.time, (c) => c.notNull())
    .addColumn('timing', 'text', (c) => c.notNull())
    .addColumn('credited', 'integer', (c) => c.notNull())
    .addColumn('removed', 'integer', (c) => c.notNull())
    .addColumn('removed_reason', 'text')
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addUniqueConstraint('payments_output', ['network', 'txid', 'output_index', 'option_id'])
    .execute();
  await db.schema.createIndex('payments_invoice').on('payments').column('invoice_id').execute();

  await db.schema
    .createTable('transitions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('invoice_id', 'text', (c) => c.notNull().references('invoices.id'))
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('from_status', 'text', (c) => c.notNull())
    .addColumn('to_status', 'text', (c) => c.notNull())
    .addColumn('cause_id', 'text', (c) => c.notNull())
    .addColumn('cause_kind', 'text', (c) => c.notNull())
    .addColumn('actor_kind', 'text')
    .addColumn('actor_id', 'text')
    .addColumn('reason', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addUniqueConstraint('transitions_cause', ['invoice_id', 'cause_id', 'to_status'])
    .execute();

  await db.schema
    .createTable('applied_facts')
    .addColumn('invoice_id', 'text', (c) => c.notNull())
    .addColumn('fact_id', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('applied_facts_pk', ['invoice_id', 'fact_id'])
    .execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('invoice_id', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('sequence', 'integer', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_merchant').on('events').columns(['merchant_id', 'id']).execute();
  await db.schema.createIndex('events_invoice').on('events').columns(['invoice_id', 'sequence']).execute();

  await db.schema
    .createTable('exceptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('invoice_id', 'text', (c) => c.notNull())
    .addColumn('payment_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('resolution', 'text')
    .addColumn('resolved_by', 'text')
    .addColumn('resolved_reason', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('resolved_at', t.time)
    .execute();
  await db.schema
    .createIndex('exceptions_merchant_status')
    .on('exceptions')
    .columns(['merchant_id', 'status', 'id'])
    .execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('run_at', t.time, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', t.time)
    .addColumn('last_error', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'run_at']).execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('response_status', 'integer', (c) => c.notNull())
    .addColumn('response_body', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['merchant_id', 'key'])
    .execute();
}
