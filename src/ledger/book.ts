import type { Kysely, Transaction } from 'kysely';
import { newId } from '../core/ids.ts';
import { formatAmount, unitsFromDb } from '../core/money.ts';
import { currencyDecimals } from '../core/registry.ts';
import type { Schema } from '../db/schema.ts';
import '../db/schema-money.ts';
import { iso } from '../db/values.ts';
import type { InvoiceRecord } from '../invoices/record.ts';
import { SETTLED_STATUSES } from '../invoices/transition-table.ts';
import { ACCOUNTS, addTo, bucketKey, difference, type Position, parseBucketKey } from './accounts.ts';
import { fiatValue } from './fiat.ts';
import { anchorOption, invoicePosition, optionFor } from './invoice-position.ts';

type Db = Kysely<Schema> | Transaction<Schema>;

export interface EntryInput {
  account: string;
  asset: string;
  network: string;
  /** Signed: debit positive, credit negative. */
  amount: bigint;
  fiatCurrency: string | null;
  fiatValue: string | null;
}

/** What the books say about one invoice (its own bookings, not the movements that spent its coins). */
export async function bookedInvoicePosition(db: Db, invoiceId: string): Promise<Position> {
  const rows = await db
    .selectFrom('ledger_entries')
    .select(['account', 'asset', 'network', 'direction', 'amount'])
    .where('invoice_id', '=', invoiceId)
    .execute();
  const position: Position = new Map();
  for (const r of rows) {
    const amount = unitsFromDb(r.amount);
    addTo(
      position,
      { account: r.account as never, asset: r.asset, network: r.network },
      r.direction === 'debit' ? amount : -amount,
    );
  }
  return position;
}

/**
 * Brings an invoice's books to the position its records call for, in the caller's transaction:
 * one new balanced transaction for the difference, or nothing. Append-only by construction:
 * a reorg that takes a payment away posts the reversal, it never edits the earlier entries.
 */
export async function bookInvoice(
  trx: Transaction<Schema>,
  before: InvoiceRecord,
  after: InvoiceRecord,
  cause: string,
  now: Date,
): Promise<void> {
  const booked = await bookedInvoicePosition(trx, after.id);
  const target = invoicePosition(after, isRecognised(after, before.status, booked));
  const diff = difference(target, booked);
  if (diff.size === 0) return;
  const entries = [...diff].map(([key, amount]) => {
    const b = parseBucketKey(key);
    const option = optionFor(after, b.asset, b.network);
    const due = anchorOption(after)?.amountDue;
    // Revenue of the amount due is the price itself, not the price re-derived through the rate.
    const fiat =
      b.account === ACCOUNTS.sales && due !== undefined && (amount === due || amount === -due)
        ? `${amount < 0n ? '-' : ''}${formatPrice(after)}`
        : fiatValue(
            amount,
            { code: b.asset, decimals: option?.decimals ?? 0, rate: option?.rate?.value ?? null },
            after.priceCurrency,
          );
    return { ...b, amount, fiatCurrency: fiat === null ? null : after.priceCurrency, fiatValue: fiat };
  });
  await insertTransaction(trx, {
    merchantId: after.merchantId,
    invoiceId: after.id,
    movementId: null,
    kind: 'invoice',
    cause,
    entries,
    now,
  });
}

/**
 * Settled statuses earned the amount due. After a refund the invoice is frozen and no longer
 * says whether it had been settled: the status it was refunded from does, and for a second
 * refund the books themselves (revenue already recognised).
 */
function isRecognised(after: InvoiceRecord, beforeStatus: string, booked: Position): boolean {
  if (SETTLED_STATUSES.has(after.status)) return true;
  if (after.status !== 'partially_refunded' && after.status !== 'refunded') return false;
  if (SETTLED_STATUSES.has(beforeStatus as never)) return true;
  const selected = anchorOption(after);
  if (!selected) return false;
  return booked.has(bucketKey({ account: ACCOUNTS.sales, asset: selected.asset, network: selected.network }));
}

/** The invoice's price as a decimal string in its currency (price_amount is in minor units). */
function formatPrice(inv: InvoiceRecord): string {
  return formatAmount(inv.priceAmount, currencyDecimals(inv.priceCurrency) ?? 0);
}

export async function insertTransaction(
  trx: Transaction<Schema>,
  t: {
    merchantId: string;
    invoiceId: string | null;
    movementId: string | null;
    /** movement_reversal: a movement's block left the best chain (src/settlement/reverse-movement.ts). */
    kind: 'invoice' | 'movement' | 'movement_reversal';
    cause: string;
    entries: EntryInput[];
    now: Date;
  },
): Promise<string> {
  const id = newId('ltx');
  const at = iso(t.now);
  await trx
    .insertInto('ledger_transactions')
    .values({
      id,
      merchant_id: t.merchantId,
      invoice_id: t.invoiceId,
      movement_id: t.movementId,
      kind: t.kind,
      cause: t.cause,
      created_at: at,
    })
    .execute();
  await trx
    .insertInto('ledger_entries')
    .values(
      t.entries.map((e) => ({
        id: newId('len'),
        transaction_id: id,
        merchant_id: t.merchantId,
        invoice_id: t.invoiceId,
        account: e.account,
        asset: e.asset,
        network: e.network,
        direction: e.amount >= 0n ? ('debit' as const) : ('credit' as const),
        amount: (e.amount >= 0n ? e.amount : -e.amount).toString(),
        fiat_currency: e.fiatCurrency,
        fiat_value: e.fiatValue,
        created_at: at,
      })),
    )
    .execute();
  return id;
}
