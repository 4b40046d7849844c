import { type Kysely, sql } from 'kysely';
import type { ColumnTypes } from './column-types.ts';

/**
 * `GET /v1/invoices?customer_id=…` (a support agent's "every invoice of this customer"): newest
 * first within the merchant's invoices of one customer, so a page is an index range, however few
 * of the merchant's invoices the customer has. Partial: an invoice without a customer id (most of
 * them, and every one the core benchmark creates) writes no entry, so the index costs the
 * invoice-creation path nothing unless the merchant uses customer ids. The filter's `customer_id = ?`
 * implies the WHERE, so both databases use it.
 */
export async function up(db: Kysely<unknown>, _types: ColumnTypes): Promise<void> {
  await db.schema
    .createIndex('invoices_merchant_customer')
    .ifNotExists()
    .on('invoices')
    .columns(['merchant_id', 'customer_id', 'id'])
    .where(sql<boolean>`customer_id is not null`)
    .execute();
}
