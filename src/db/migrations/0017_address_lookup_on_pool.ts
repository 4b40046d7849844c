import type { Kysely } from 'kysely';
import type { ColumnTypes } from './column-types.ts';

/**
 * Moves the index that finds an invoice by its address from `payment_options` to the address pool
 * (`wallet_addresses`), off the invoice-creation path (decision 0018).
 *
 * An address is a hash: its entries land on a random leaf of the index. On `payment_options` each
 * new invoice wrote one, so a batch of 25 invoices rewrote ~58 scattered 4 KiB pages, a third of
 * the batch's WAL on SQLite, fsynced before any of the 25 could be answered. On the pool the entry
 * is written once, when the address is derived: ahead of time, by the top-up job, in batches. Every
 * option's address comes from its wallet's pool (the allocator derives inline into the pool when it
 * runs dry), so `wallet_addresses.option_id` leads from an address to its option as before.
 *
 * The new index is built before the old one is dropped, and each step may run again (Kysely runs
 * SQLite migrations outside a transaction). On PostgreSQL the build blocks writes to the pool while
 * it runs: a start-up cost proportional to the pool.
 */
export async function up(db: Kysely<unknown>, _types: ColumnTypes): Promise<void> {
  await db.schema
    .createIndex('wallet_addresses_address')
    .ifNotExists()
    .on('wallet_addresses')
    .column('address')
    .execute();
  await db.schema.dropIndex('payment_options_address').ifExists().execute();
}
