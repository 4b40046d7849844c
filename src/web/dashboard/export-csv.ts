import type { FastifyReply } from 'fastify';
import { appendAudit } from '../../audit/audit-log.ts';
import type { SessionUser } from '../../auth/sessions.ts';
import type { Tally } from '../../context.ts';
import { formatAmount, unitsFromDb } from '../../core/money.ts';
import { isFlagSet, toDate, toDateOrNull } from '../../db/values.ts';
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
  'amount_credited',
  'uncredited_payments',
  'created_at',
  'expires_at',
  'fulfilled_at',
];

/**
 * Finance's export: every invoice of the merchant with the payment option it was paid with (the
 * first option while none is selected), read in keyset batches of 500. Beside what was due: what
 * was credited on that option, and how many payments were not credited (duplicates, another
 * option, the wrong network or asset, after the window), which each have an exception. Amounts are
 * exact decimal strings from base units, summed as bigint. The export itself is audited (who took
 * the merchant's data, when).
 */
export async function streamInvoiceCsv(tally: Tally, user: SessionUser, reply: FastifyReply): Promise<void> {
  const db = tally.database.read;
  const lines = [HEADER.join(',')];
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('invoices as i')
      .leftJoin('payment_options as o', (j) =>
        j
          .onRef('o.invoice_id', '=', 'i.id')
          .on((eb) =>
            eb.or([
              eb('o.id', '=', eb.ref('i.selected_option_id')),
              eb.and([eb('i.selected_option_id', 'is', null), eb('o.position', '=', 0)]),
            ]),
          ),
      )
      .select(['i.id', 'i.merchant_order_id', 'i.status', 'i.price_amount', 'i.price_currency'])
      .select([
        'i.created_at',
        'i.expires_at',
        'i.fulfilled_at',
        'o.id as option_id',
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
    const money = await paymentsOf(
      tally,
      rows.map((r) => r.id),
    );
    for (const r of rows) {
      const paid = money.get(r.id);
      const credited = r.option_id === null ? 0n : (paid?.credited.get(r.option_id) ?? 0n);
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
          r.option_id === null ? null : formatAmount(credited, r.decimals ?? 0),
          String(paid?.uncredited ?? 0),
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

/** Per invoice: credited base units per option, and the count of live payments not credited. */
async function paymentsOf(
  tally: Tally,
  invoiceIds: string[],
): Promise<Map<string, { credited: Map<string, bigint>; uncredited: number }>> {
  const byInvoice = new Map<string, { credited: Map<string, bigint>; uncredited: number }>();
  if (invoiceIds.length === 0) return byInvoice;
  const rows = await tally.database.read
    .selectFrom('payments')
    .select(['invoice_id', 'option_id', 'amount', 'credited', 'removed'])
    .where('invoice_id', 'in', invoiceIds)
    .execute();
  for (const p of rows) {
    if (isFlagSet(p.removed)) continue; // replaced or double-spent: it never counted
    const entry = byInvoice.get(p.invoice_id) ?? { credited: new Map<string, bigint>(), uncredited: 0 };
    if (isFlagSet(p.credited))
      entry.credited.set(p.option_id, (entry.credited.get(p.option_id) ?? 0n) + unitsFromDb(p.amount));
    else entry.uncredited += 1;
    byInvoice.set(p.invoice_id, entry);
  }
  return byInvoice;
}
