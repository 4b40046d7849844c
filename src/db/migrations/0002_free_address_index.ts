import { type Kysely, sql } from 'kysely';
import type { ColumnTypes } from './column-types.ts';

/**
 * The allocator asks for "the lowest free address of this wallet". A partial index over free rows
 * only stays small however many addresses were handed out, and the planner picks it even before
 * statistics exist on a freshly filled pool (without it PostgreSQL fell back to scanning and
 * sorting the pool on every invoice: 117 invoices/s in the core benchmark). The composite index
 * from 0001 stays: SQLite's planner ignores this partial one for the query and, without the
 * composite, sorts all free rows per allocation instead (1,814 → 226 invoices/s).
 */
export async function up(db: Kysely<unknown>, _types: ColumnTypes): Promise<void> {
  await db.schema
    .createIndex('wallet_addresses_free_only')
    .on('wallet_addresses')
    .columns(['wallet_id', 'derivation_index'])
    .where(sql<boolean>`option_id is null`)
    .execute();
}
