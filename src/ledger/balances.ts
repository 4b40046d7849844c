import type { Kysely } from 'kysely';
import { formatAmount, unitsFromDb } from '../core/money.ts';
import { findAsset } from '../core/registry.ts';
import type { Schema } from '../db/schema.ts';
import '../db/schema-money.ts';
import { addTo, type Position, parseBucketKey } from './accounts.ts';

export interface Balance {
  account: string;
  asset: string;
  network: string;
  /** Signed decimal string: positive is a debit balance, negative a credit balance. */
  balance: string;
  balance_base_units: string;
}

/**
 * A merchant's balances, derived: a sum over its entries in bigint, read in pages (SQLite would
 * sum a text column as a float, so the database is never asked to add money).
 */
export async function ledgerBalances(
  db: Kysely<Schema>,
  merchantId: string,
  until?: Date,
): Promise<Balance[]> {
  const position: Position = new Map();
  let after = '';
  for (;;) {
    let q = db
      .selectFrom('ledger_entries')
      .select(['id', 'account', 'asset', 'network', 'direction', 'amount'])
      .where('merchant_id', '=', merchantId)
      .where('id', '>', after)
      .orderBy('id')
      .limit(5_000);
    if (until) q = q.where('created_at', '<', until.toISOString() as never);
    const rows = await q.execute();
    if (rows.length === 0) break;
    after = (rows[rows.length - 1] as { id: string }).id;
    for (const r of rows) {
      const amount = unitsFromDb(r.amount);
      addTo(
        position,
        { account: r.account as never, asset: r.asset, network: r.network },
        r.direction === 'debit' ? amount : -amount,
      );
    }
  }
  return [...position]
    .map(([key, units]) => {
      const b = parseBucketKey(key);
      const decimals = findAsset(b.asset, b.network)?.decimals ?? 0;
      return { ...b, balance: formatAmount(units, decimals), balance_base_units: units.toString() };
    })
    .sort((a, b) => `${a.asset}${a.network}${a.account}`.localeCompare(`${b.asset}${b.network}${b.account}`));
}
