import type { Kysely } from 'kysely';
import type { ColumnTypes } from './column-types.ts';

/**
 * Two wallets with the same key and scope derive the same addresses, so each would be credited
 * with the other's payments. The fingerprint of the normalized key is unique per scope, across
 * merchants. (Nullable only because earlier rows had none; new rows always set it.)
 */
export async function up(db: Kysely<unknown>, _types: ColumnTypes): Promise<void> {
  await db.schema.alterTable('wallets').addColumn('key_fingerprint', 'text').execute();
  await db.schema
    .createIndex('wallets_scope_key')
    .on('wallets')
    .columns(['scope', 'key_fingerprint'])
    .unique()
    .execute();
}
