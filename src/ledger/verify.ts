import type { Kysely } from 'kysely';
import { idFloor } from '../core/ids.ts';
import { unitsFromDb } from '../core/money.ts';
import type { DialectName } from '../db/connect.ts';
import type { Schema } from '../db/schema.ts';
import '../db/schema-money.ts';
import { loadInvoice } from '../invoices/invoice-store.ts';
import { SETTLED_STATUSES } from '../invoices/transition-table.ts';
import type { InvoiceStatus } from '../invoices/types.ts';
import { difference, type Position } from './accounts.ts';
import { bookedInvoicePosition } from './book.ts';
import { invoicePosition } from './invoice-position.ts';

export interface LedgerVerifyReport {
  ok: boolean;
  transactions_checked: number;
  unbalanced: Array<{
    transaction_id: string;
    asset: string;
    network: string;
    debits: string;
    credits: string;
  }>;
  invoices_checked: number;
  /** Invoices whose entries differ from what their records call for: bucket → booked vs expected. */
  mismatched: Array<{
    invoice_id: string;
    differences: Record<string, { booked: string; expected: string }>;
  }>;
  movements_unbooked: string[];
}

const PAGE = 1_000;

/**
 * Proves the books: (1) every transaction balances per asset and network to the base unit;
 * (2) every invoice with money has exactly the entries its payments, status and refunds call for
 * (recomputed from the records, independently of how they were booked); (3) every outgoing
 * movement is booked. Reads in pages, so memory stays flat on a large database.
 */
export async function verifyLedger(
  db: Kysely<Schema>,
  dialect: DialectName,
  merchantId?: string,
  /** Only transactions and invoices written since then (the scheduled reconciliation's window). */
  since?: Date,
): Promise<LedgerVerifyReport> {
  const report: LedgerVerifyReport = {
    ok: true,
    transactions_checked: 0,
    unbalanced: [],
    invoices_checked: 0,
    mismatched: [],
    movements_unbooked: [],
  };
  let after = '';
  for (;;) {
    let q = db
      .selectFrom('ledger_transactions')
      .select('id')
      .where('id', '>', after)
      .orderBy('id')
      .limit(PAGE);
    if (merchantId) q = q.where('merchant_id', '=', merchantId);
    // Ledger ids are time-sortable: "since" is a range on the primary key.
    if (since) q = q.where('id', '>=', idFloor('ltx', since.getTime()));
    const ids = (await q.execute()).map((r) => r.id);
    if (ids.length === 0) break;
    after = ids[ids.length - 1] as string;
    const entries = await db
      .selectFrom('ledger_entries')
      .select(['transaction_id', 'asset', 'network', 'direction', 'amount'])
      .where('transaction_id', 'in', ids)
      .execute();
    const sums = new Map<string, { debits: bigint; credits: bigint }>();
    for (const e of entries) {
      const key = `${e.transaction_id}|${e.asset}|${e.network}`;
      const s = sums.get(key) ?? { debits: 0n, credits: 0n };
      if (e.direction === 'debit') s.debits += unitsFromDb(e.amount);
      else s.credits += unitsFromDb(e.amount);
      sums.set(key, s);
    }
    for (const [key, s] of sums) {
      if (s.debits === s.credits) continue;
      const [transaction_id = '', asset = '', network = ''] = key.split('|');
      report.unbalanced.push({
        transaction_id,
        asset,
        network,
        debits: s.debits.toString(),
        credits: s.credits.toString(),
      });
    }
    report.transactions_checked += ids.length;
  }

  after = '';
  for (;;) {
    let q = db
      .selectFrom('invoices')
      .select(['id', 'merchant_id'])
      .where('id', '>', after)
      .where((eb) =>
        eb.or([
          eb.exists(
            eb.selectFrom('payments').select('id').whereRef('payments.invoice_id', '=', 'invoices.id'),
          ),
          eb.exists(
            eb
              .selectFrom('ledger_entries')
              .select('id')
              .whereRef('ledger_entries.invoice_id', '=', 'invoices.id'),
          ),
        ]),
      )
      .orderBy('id')
      .limit(PAGE);
    if (merchantId) q = q.where('merchant_id', '=', merchantId);
    if (since) q = q.where('updated_at', '>=', since.toISOString() as never);
    const rows = await q.execute();
    if (rows.length === 0) break;
    after = (rows[rows.length - 1] as { id: string }).id;
    for (const row of rows) {
      const invoice = await loadInvoice(db, dialect, row.merchant_id, row.id);
      if (!invoice) continue;
      const expected = invoicePosition(invoice, await wasRecognised(db, row.id, invoice.status));
      const booked = await bookedInvoicePosition(db, row.id);
      const diff = difference(expected, booked);
      report.invoices_checked += 1;
      if (diff.size > 0)
        report.mismatched.push({ invoice_id: row.id, differences: describe(diff, booked, expected) });
    }
  }

  let mq = db
    .selectFrom('settlement_movements')
    .select('id')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('ledger_transactions')
            .select('id')
            .whereRef('ledger_transactions.movement_id', '=', 'settlement_movements.id'),
        ),
      ),
    );
  if (merchantId) mq = mq.where('merchant_id', '=', merchantId);
  report.movements_unbooked = (await mq.execute()).map((r) => r.id);
  report.ok =
    report.unbalanced.length === 0 &&
    report.mismatched.length === 0 &&
    report.movements_unbooked.length === 0;
  return report;
}

/** Recognised revenue, judged from the transitions (not from the books being verified). */
async function wasRecognised(db: Kysely<Schema>, invoiceId: string, status: InvoiceStatus): Promise<boolean> {
  if (SETTLED_STATUSES.has(status)) return true;
  if (status !== 'partially_refunded' && status !== 'refunded') return false;
  const first = await db
    .selectFrom('transitions')
    .select('from_status')
    .where('invoice_id', '=', invoiceId)
    .where('to_status', 'in', ['partially_refunded', 'refunded'])
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return first !== undefined && SETTLED_STATUSES.has(first.from_status as InvoiceStatus);
}

function describe(diff: Position, booked: Position, expected: Position) {
  const out: Record<string, { booked: string; expected: string }> = {};
  for (const key of diff.keys())
    out[key] = { booked: (booked.get(key) ?? 0n).toString(), expected: (expected.get(key) ?? 0n).toString() };
  return out;
}
