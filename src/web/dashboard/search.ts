import { getAddress, isAddress } from 'viem';
import type { Tally } from '../../context.ts';
import { type InvoiceRow, toInvoiceRow } from './queues.ts';

/**
 * One box for what support is given: an order id, an invoice id, an address or a transaction
 * hash. Each is an indexed equality lookup; EVM addresses and hashes are tried in the spellings
 * they may be stored in (checksummed, lower case).
 */
export async function searchInvoices(tally: Tally, merchantId: string, query: string): Promise<InvoiceRow[]> {
  const q = query.trim();
  if (q === '' || q.length > 200) return [];
  const db = tally.database.read;
  const spellings = [
    ...new Set([q, q.toLowerCase(), ...(isAddress(q, { strict: false }) ? [getAddress(q)] : [])]),
  ];
  const ids = new Set<string>();
  const add = (rows: Array<{ id: string }>) => {
    for (const r of rows) ids.add(r.id);
  };
  add(
    await db
      .selectFrom('invoices')
      .select('id')
      .where('merchant_id', '=', merchantId)
      .where((eb) => eb.or([eb('id', '=', q), eb('merchant_order_id', '=', q)]))
      .limit(50)
      .execute(),
  );
  add(
    await db
      .selectFrom('payment_options')
      .select('invoice_id as id')
      .where('merchant_id', '=', merchantId)
      .where('address', 'in', spellings)
      .limit(50)
      .execute(),
  );
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
