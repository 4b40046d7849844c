import type { Kysely } from 'kysely';
import type { ColumnTypes } from './column-types.ts';

/**
 * The address gap of Bitcoin wallets (src/wallets/address-gap.ts). `gap_warned_at` remembers that
 * `wallet.gap_warning` was emitted for the current crossing of the warning threshold, so the event
 * is sent once per crossing, not on every check; it is cleared when the gap falls back below. The
 * index on payments.option_id serves the "highest paid index" lookup, which joins allocated
 * addresses to their payments.
 */
export async function up(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await db.schema.alterTable('wallets').addColumn('gap_warned_at', t.time).execute();
  await db.schema.createIndex('payments_option').on('payments').column('option_id').execute();
}
