import type { Tally } from '../context.ts';
import '../db/schema-money.ts';
import { loadInvoice } from '../invoices/invoice-store.ts';
import type { InvoiceStatus } from '../invoices/types.ts';
import { bookInvoice } from './book.ts';

/**
 * Books invoices that have money but no entries yet — those paid before the ledger existed
 * (migration 0009). Each is brought to the position its records call for, like any transition
 * would; invoices already booked are left alone, so running it twice changes nothing.
 */
export async function backfillLedger(
  tally: Tally,
  merchantId?: string,
): Promise<{ booked: number; checked: number }> {
  const db = tally.database.db;
  let after = '';
  let booked = 0;
  let checked = 0;
  for (;;) {
    let q = db
      .selectFrom('invoices')
      .select(['id', 'merchant_id'])
      .where('id', '>', after)
      .where((eb) =>
        eb.and([
          eb.exists(
            eb.selectFrom('payments').select('id').whereRef('payments.invoice_id', '=', 'invoices.id'),
          ),
          eb.not(
            eb.exists(
              eb
                .selectFrom('ledger_entries')
                .select('id')
                .whereRef('ledger_entries.invoice_id', '=', 'invoices.id'),
            ),
          ),
        ]),
      )
      .orderBy('id')
      .limit(500);
    if (merchantId) q = q.where('merchant_id', '=', merchantId);
    const rows = await q.execute();
    if (rows.length === 0) break;
    after = (rows[rows.length - 1] as { id: string }).id;
    for (const row of rows) {
      checked += 1;
      const wrote = await tally.database.write(async (trx) => {
        const invoice = await loadInvoice(trx, tally.database.dialect, row.merchant_id, row.id, true);
        if (!invoice) return false;
        // A refunded invoice was recognised if its first refund left a settled status.
        const first = await trx
          .selectFrom('transitions')
          .select('from_status')
          .where('invoice_id', '=', row.id)
          .where('to_status', 'in', ['partially_refunded', 'refunded'])
          .orderBy('id')
          .limit(1)
          .executeTakeFirst();
        const beforeStatus = (first?.from_status as InvoiceStatus | undefined) ?? invoice.status;
        const entries = await trx
          .selectFrom('ledger_entries')
          .select('id')
          .where('invoice_id', '=', row.id)
          .limit(1)
          .execute();
        if (entries.length > 0) return false;
        await bookInvoice(trx, { ...invoice, status: beforeStatus }, invoice, 'backfill', tally.clock.now());
        return true;
      });
      if (wrote) booked += 1;
    }
  }
  return { booked, checked };
}
