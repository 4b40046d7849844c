import type { Kysely } from 'kysely';
import { getAddress, isAddress } from 'viem';
import type { Tally } from '../../context.ts';
import type { Schema } from '../../db/schema.ts';
import { type InvoiceRow, toInvoiceRow } from './queues.ts';

/**
 * One box for what support is given: an order id, an invoice id, an address or a transaction
 * hash. Each is an indexed equality lookup; ids, addresses and hashes are tried in the spellings
 * they may be stored in (spellingsOf).
 */
export async function searchInvoices(tally: Tally, merchantId: string, query: string): Promise<InvoiceRow[]> {
  const q = query.trim();
  if (q === '' || q.length > 200) return [];
  const db = tally.database.read;
  const spellings = spellingsOf(q);
  const ids = new Set<string>();
  const add = (rows: Array<{ id: string }>) => {
    for (const r of rows) ids.add(r.id);
  };
  add(
    await db
      .selectFrom('invoices')
      .select('id')
      .where('merchant_id', '=', merchantId)
      .where((eb) =>
        eb.or([eb('id', 'in', [...new Set([q, q.toLowerCase()])]), eb('merchant_order_id', '=', q)]),
      )
      .limit(50)
      .execute(),
  );
  add(await invoicesWithAddress(db, merchantId, spellings).execute());
  add(
    await db
      .selectFrom('payments')
      .select('invoice_id as id')
      .where('merchant_id', '=', merchantId)
      .where('txid', 'in', spellings)
      .limit(50)
      .execute(),
  );
  if (ids.size === 0) return [];
  const rows = await db
    .selectFrom('invoices')
    .select(['id', 'merchant_order_id', 'status', 'price_amount', 'price_currency', 'created_at'])
    .where('merchant_id', '=', merchantId)
    .where('id', 'in', [...ids])
    .orderBy('id', 'desc')
    .execute();
  return rows.map(toInvoiceRow);
}

const HEX = /^(0x)?([0-9a-f]{40}|[0-9a-f]{64})$/i;

/**
 * The spellings a pasted value may be stored in. Ids and hex are stored in lower case (EVM
 * addresses also checksummed); a customer's wallet or an explorer may show a hash or address with
 * or without `0x` (Bitcoin txids have none, EVM hashes do) and in either case.
 */
function spellingsOf(q: string): string[] {
  const out = [q, q.toLowerCase()];
  const hex = HEX.exec(q)?.[2]?.toLowerCase();
  if (hex) out.push(hex, `0x${hex}`);
  for (const candidate of [...out])
    if (isAddress(candidate, { strict: false })) out.push(getAddress(candidate));
  return [...new Set(out)];
}

/**
 * The merchant's invoices with an option at one of these addresses. Through the address pool,
 * whose index on the address is written when the address is derived, not with each invoice
 * (migration 0017): every option's address was handed out from its wallet's pool, and the pool's
 * option_id leads to the option.
 */
export function invoicesWithAddress(db: Kysely<Schema>, merchantId: string, spellings: readonly string[]) {
  return db
    .selectFrom('wallet_addresses as wa')
    .innerJoin('payment_options as o', 'o.id', 'wa.option_id')
    .select('o.invoice_id as id')
    .where('wa.address', 'in', [...spellings])
    .where('o.merchant_id', '=', merchantId)
    .limit(50);
}
