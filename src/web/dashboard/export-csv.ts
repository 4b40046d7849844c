import type { FastifyReply } from 'fastify';
import { appendAudit } from '../../audit/audit-log.ts';
import type { SessionUser } from '../../auth/sessions.ts';
import type { Tally } from '../../context.ts';
import { formatAmount, unitsFromDb } from '../../core/money.ts';
import { toDate, toDateOrNull } from '../../db/values.ts';
import { formatPrice } from '../format.ts';
import { csvCell } from './pages.ts';

const HEADER = [
  'invoice_id',
  'merchant_order_id',
  'status',
  'price_amount',
  'price_currency',
  'asset',
  'network',
  'amount_due',
  'created_at',
  'expires_at',
  'fulfilled_at',
];

/**
 * Finance's export: every invoice of the merchant with its first payment option, read in keyset
 * batches of 500. Amounts are exact decimal strings from base units. The export itself is audited
 * (who took the merchant's data, when).
 */
export async function streamInvoiceCsv(tally: Tally, user: SessionUser, reply: FastifyReply): Promise<void> {
  const db = tally.database.read;
  const lines = [HEADER.join(',')];
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('invoices as i')
      .leftJoin('payment_options as o', (j) => j.onRef('o.invoice_id', '=', 'i.id').on('o.position', '=', 0))
      .select(['i.id', 'i.merchant_order_id', 'i.status', 'i.price_amount', 'i.price_currency'])
      .select([
        'i.created_at',
        'i.expires_at',
        'i.fulfilled_at',
        'o.asset',
        'o.network',
        'o.amount_due',
        'o.decimals',
      ])
      .where('i.merchant_id', '=', user.merchantId)
      .where('i.id', '>', after)
      .orderBy('i.id')
      .limit(500)
      .execute();
    for (const r of rows) {
      lines.push(
        [
          r.id,
          r.merchant_order_id,
          r.status,
          formatPrice(r.price_amount, r.price_currency),
          r.price_currency,
          r.asset,
          r.network,
          r.amount_due === null ? null : formatAmount(unitsFromDb(r.amount_due), r.decimals ?? 0),
          toDate(r.created_at).toISOString(),
          toDate(r.expires_at).toISOString(),
          toDateOrNull(r.fulfilled_at)?.toISOString() ?? null,
        ]
          .map(csvCell)
          .join(','),
      );
    }
    if (rows.length < 500) break;
    after = rows.at(-1)?.id ?? after;
  }
  await tally.database.write((trx) =>
    appendAudit(
      trx,
      tally.database.dialect,
      {
        merchantId: user.merchantId,
        actor: { kind: 'user', id: user.userId, label: user.email },
        action: 'invoices.export',
        target: null,
        reason: null,
        details: { rows: lines.length - 1 },
      },
      tally.clock.now(),
    ),
  );
  reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', 'attachment; filename="invoices.csv"')
    .header('cache-control', 'no-store')
    .send(`${lines.join('\r\n')}\r\n`);
}
