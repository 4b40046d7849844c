import { type Kysely, sql } from 'kysely';
import { newId } from '../../core/ids.ts';
import type { ColumnTypes } from './column-types.ts';

/**
 * The address gap of Bitcoin wallets (src/wallets/address-gap.ts). `gap_warned_at` remembers that
 * `wallet.gap_warning` was emitted for the current crossing of the warning threshold, so the event
 * is sent once per crossing, not on every check; it is cleared when the gap falls back below. The
 * index on payments.option_id serves the "highest paid index" lookup, which joins allocated
 * addresses to their payments. Wallets that already exist get their periodic gap-check job here
 * (new wallets get it from addWallet).
 */
export async function up(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await db.schema.alterTable('wallets').addColumn('gap_warned_at', t.time).execute();
  await db.schema.createIndex('payments_option').on('payments').column('option_id').execute();
  const wallets = await sql<{ id: string }>`select id from wallets where family = 'bitcoin'`.execute(db);
  const now = new Date().toISOString();
  for (const wallet of wallets.rows) {
    const payload = JSON.stringify({ walletId: wallet.id });
    await sql`insert into jobs (id, kind, dedupe_key, payload, run_at, status, attempts, locked_by, locked_until, last_error, created_at, updated_at)
      values (${newId('job')}, 'wallet.gap_check', ${`gap_check:${wallet.id}`}, ${payload}, ${now}, 'pending', 0, null, null, null, ${now}, ${now})
      on conflict (dedupe_key) do nothing`.execute(db);
  }
}
