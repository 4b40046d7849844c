import type { Kysely } from 'kysely';
import type { ColumnTypes } from './column-types.ts';

/**
 * A Bitcoin wallet's key origin (src/wallets/key-origin.ts): the signer's master key fingerprint
 * and the account key's path from it, so PSBTs carry derivations real wallets recognise. Both null
 * for wallets added without one (and for EVM wallets). 0010 is left to a colleague's migration.
 */
export async function up(db: Kysely<unknown>, _types: ColumnTypes): Promise<void> {
  await db.schema.alterTable('wallets').addColumn('master_fingerprint', 'text').execute();
  await db.schema.alterTable('wallets').addColumn('account_path', 'text').execute();
}
