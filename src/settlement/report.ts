import type { Kysely } from 'kysely';
import { formatAmount, unitsFromDb } from '../core/money.ts';
import { currencyDecimals, findAsset } from '../core/registry.ts';
import type { Schema } from '../db/schema.ts';
import '../db/schema-money.ts';
import { isFlagSet, iso, toDate } from '../db/values.ts';
import { fiatUnits } from '../ledger/fiat.ts';
import { fiatSourcesByMovement, movementFiatUnits } from '../ledger/movement-fiat.ts';
import { bookedFee } from '../refunds/refund-rows.ts';
import { sqlitePaymentPages } from './sqlite-payment-pages.ts';

/**
 * The settlement report of one merchant for a period [from, to): one row per confirmed payment
 * seen in it (order id ↔ invoice ↔ payment tx ↔ amount in crypto and fiat at the locked rate ↔
 * the movement and settlement batch that took it out ↔ the invoice's refunds), one per outgoing
 * movement (refunded, swept, network fee and its fiat value, batch) and one per completed refund. Streamed: pages of
 * PAGE payments by (seen_at, id), with the page's movements and refunds fetched per page, so
 * memory stays flat however long the period (bench/results/money.json).
 */
export const REPORT_COLUMNS = [
  'type',
  'time',
  'merchant_order_id',
  'invoice_id',
  'invoice_status',
  'asset',
  'network',
  'txid',
  'vout',
  'amount',
  'amount_base_units',
  'credited',
  'fiat_currency',
  'fiat_value',
  'price',
  'fee',
  'refunded',
  'swept',
  'settlement_batch_id',
  'settlement_txid',
  'refund_ids',
  /** Movement and refund rows: the network fee's value in `fiat_currency` at the locked rates. */
  'fee_fiat_value',
] as const;

export type ReportRow = Record<(typeof REPORT_COLUMNS)[number], string>;

export interface ReportTotals {
  /** Per "asset/network": base-unit strings. */
  crypto: Record<
    string,
    {
      received: string;
      credited: string;
      uncredited: string;
      refunded: string;
      swept: string;
      fees: string;
      spent: string;
    }
  >;
  /** Per currency: fiat value of credited payments at their locked rates. */
  fiat: Record<string, string>;
  /** Per currency: fiat value of the period's movement fees at the locked rates (decision 0011 §15). */
  fees_fiat: Record<string, string>;
  payments: number;
  movements: number;
  refunds: number;
}

const PAGE = 5_000;

export interface ReportParams {
  merchantId: string;
  from: Date;
  to: Date;
  /** On SQLite, the database file: payment rows are then streamed from a dedicated connection. */
  sqlitePath?: string | undefined;
  onProgress?: (done: number, total: number) => void;
}

/** Stored times are canonical ISO text on SQLite (written by iso()); PostgreSQL returns Dates. */
const isoTime = (v: string | Date): string => (typeof v === 'string' ? v : toDate(v).toISOString());

// Per-row lookups of static registry data, memoised: the report formats a million rows.
const decimalsCache = new Map<string, number>();
function decimalsOf(asset: string, network: string): number {
  const key = `${asset}/${network}`;
  const known = decimalsCache.get(key);
  if (known !== undefined) return known;
  const d = findAsset(asset, network)?.decimals ?? 0;
  decimalsCache.set(key, d);
  return d;
}
const placesCache = new Map<string, number>();
function placesOf(currency: string): number {
  const known = placesCache.get(currency);
  if (known !== undefined) return known;
  const d = currencyDecimals(currency) ?? 0;
  placesCache.set(currency, d);
  return d;
}

/** RFC 4180: quote a field holding a comma, quote, CR or LF; double inner quotes. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

// Prices repeat across invoices (a catalogue has few of them): format each once.
const priceCache = new Map<string, string>();
function priceText(units: string, places: number, currency: string): string {
  const key = `${units}|${currency}`;
  const known = priceCache.get(key);
  if (known !== undefined) return known;
  const text = `${formatAmount(unitsFromDb(units), places)} ${currency}`;
  if (priceCache.size > 10_000) priceCache.clear();
  priceCache.set(key, text);
  return text;
}

const blankRow = (): ReportRow => Object.fromEntries(REPORT_COLUMNS.map((c) => [c, ''])) as ReportRow;

export async function countReportPayments(db: Kysely<Schema>, p: ReportParams): Promise<number> {
  const row = await db
    .selectFrom('payments')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('merchant_id', '=', p.merchantId)
    .where('removed', '=', 0)
    .where('block_height', 'is not', null)
    .where('seen_at', '>=', iso(p.from) as never)
    .where('seen_at', '<', iso(p.to) as never)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Yields rows page by page; `totals` is filled in as it goes and complete when the generator ends. */
export async function* settlementReport(
  db: Kysely<Schema>,
  p: ReportParams,
  totals: ReportTotals,
  /** csv: payment pages come as one CSV text each (no row objects: a million of them cost seconds). */
  as: 'rows' | 'csv' = 'rows',
): AsyncGenerator<ReportRow[] | string> {
  const total = p.onProgress ? await countReportPayments(db, p) : 0;
  p.onProgress?.(0, total);
  const crypto = new Map<
    string,
    {
      received: bigint;
      credited: bigint;
      uncredited: bigint;
      refunded: bigint;
      swept: bigint;
      fees: bigint;
      spent: bigint;
    }
  >();
  const bucket = (asset: string, network: string) => {
    const key = `${asset}/${network}`;
    const b = crypto.get(key) ?? {
      received: 0n,
      credited: 0n,
      uncredited: 0n,
      refunded: 0n,
      swept: 0n,
      fees: 0n,
      spent: 0n,
    };
    crypto.set(key, b);
    return b;
  };
  const fiat = new Map<string, bigint>();
  let done = 0;
  const pages = p.sqlitePath ? sqlitePaymentPages(p.sqlitePath, p, PAGE) : kyselyPaymentPages(db, p);
  for await (const rows of pages) {
    const ids = rows.map((r) => r[0]);
    // Only invoices that refunded something have refunds to list: skip the lookup for the rest.
    const invoiceIds = [...new Set(rows.filter((r) => r[13] !== '0').map((r) => r[8]))];
    const [spends, refunds] = await Promise.all([
      db
        .selectFrom('settlement_movement_inputs as mi')
        .innerJoin('settlement_movements as m', 'm.id', 'mi.movement_id')
        .select(['mi.payment_id', 'm.txid', 'm.batch_id'])
        .where('mi.payment_id', 'in', ids)
        .where('m.removed', '=', 0)
        .execute(),
      invoiceIds.length === 0
        ? Promise.resolve([])
        : db
            .selectFrom('refunds')
            .select(['id', 'invoice_id', 'amount'])
            .where('invoice_id', 'in', invoiceIds)
            .where('status', '=', 'completed')
            .execute(),
    ]);
    const spentBy = new Map(spends.map((s) => [s.payment_id, s]));
    const refundsOf = new Map<string, { ids: string[]; total: bigint }>();
    for (const r of refunds) {
      const e = refundsOf.get(r.invoice_id) ?? { ids: [], total: 0n };
      e.ids.push(r.id);
      e.total += unitsFromDb(r.amount);
      refundsOf.set(r.invoice_id, e);
    }
    const out: ReportRow[] = [];
    let csv = '';
    // Rows of a page are nearly always one asset: look its bucket and decimals up once per change.
    let lastAsset = '';
    let lastNetwork = '';
    let decimals = 0;
    let b = bucket('', '');
    for (const r of rows) {
      const [id, seenAt, txid, vout, amountText, creditedFlag, asset, network, invoiceId, orderId, status] =
        r;
      const priceAmount = r[11];
      const priceCurrency = r[12];
      const rateValue = r[14];
      const priced = r[15];
      const amount = unitsFromDb(amountText);
      if (asset !== lastAsset || network !== lastNetwork) {
        lastAsset = asset;
        lastNetwork = network;
        decimals = decimalsOf(asset, network);
        b = bucket(asset, network);
      }
      const credited = isFlagSet(creditedFlag);
      b.received += amount;
      if (credited) b.credited += amount;
      else b.uncredited += amount;
      // Fiat only for money in the asset the option priced (misdirected money has no locked rate).
      const fiatU =
        priced === 1 ? fiatUnits(amount, { code: asset, decimals, rate: rateValue }, priceCurrency) : null;
      const places = placesOf(priceCurrency);
      if (fiatU !== null && credited) fiat.set(priceCurrency, (fiat.get(priceCurrency) ?? 0n) + fiatU);
      const spend = spentBy.get(id);
      const refund = refundsOf.get(invoiceId);
      const fiatText = fiatU === null ? '' : formatAmount(fiatU, places);
      const price = priceText(priceAmount, places, priceCurrency);
      if (as === 'csv') {
        csv += `payment,${isoTime(seenAt)},${csvField(orderId ?? '')},${invoiceId},${status},${asset},${network},${txid},${vout},${formatAmount(amount, decimals)},${amountText},${credited ? 'true' : 'false'},${fiatU === null ? '' : priceCurrency},${fiatText},${csvField(price)},,${refund ? formatAmount(refund.total, decimals) : ''},,${spend?.batch_id ?? ''},${spend?.txid ?? ''},${refund ? refund.ids.join(' ') : ''},\r\n`;
        continue;
      }
      // One object literal per row (not a blank row filled in): a million of them are built.
      const row: ReportRow = {
        type: 'payment',
        time: isoTime(seenAt),
        merchant_order_id: orderId ?? '',
        invoice_id: invoiceId,
        invoice_status: status,
        asset,
        network,
        txid,
        vout: String(vout),
        amount: formatAmount(amount, decimals),
        amount_base_units: amountText,
        credited: credited ? 'true' : 'false',
        fiat_currency: fiatU === null ? '' : priceCurrency,
        fiat_value: fiatText,
        price,
        fee: '',
        refunded: refund ? formatAmount(refund.total, decimals) : '',
        swept: '',
        settlement_batch_id: spend?.batch_id ?? '',
        settlement_txid: spend?.txid ?? '',
        refund_ids: refund ? refund.ids.join(' ') : '',
        fee_fiat_value: '',
      };
      out.push(row);
    }
    done += rows.length;
    totals.payments = done;
    p.onProgress?.(done, total);
    yield as === 'csv' ? csv : out;
  }
  yield await movementRows(db, p, bucket, totals);
  yield await refundRows(db, p, totals);
  totals.crypto = Object.fromEntries(
    [...crypto].map(([k, v]) => [
      k,
      Object.fromEntries(Object.entries(v).map(([n, x]) => [n, x.toString()])),
    ]),
  ) as ReportTotals['crypto'];
  totals.fiat = Object.fromEntries([...fiat].map(([c, u]) => [c, formatAmount(u, currencyDecimals(c) ?? 0)]));
}

type PaymentPageRow = Awaited<ReturnType<typeof paymentsPage>>[number];

/**
 * A payment row of the report as a tuple, in the order of the SQLite statement's columns
 * (src/settlement/sqlite-payment-pages.ts): id, seen_at, txid, output_index, amount, credited,
 * asset, network, invoice_id, merchant_order_id, status, price_amount, price_currency,
 * refunded_amount, rate_value, priced (1 when in the option's own asset and network).
 */
export type PaymentTuple = [
  string,
  string | Date,
  string,
  number,
  string,
  number,
  string,
  string,
  string,
  string | null,
  string,
  string,
  string,
  string,
  string | null,
  number,
];

/** Pages of PAGE payments by keyset over (seen_at, id): the portable path (PostgreSQL). */
async function* kyselyPaymentPages(db: Kysely<Schema>, p: ReportParams): AsyncGenerator<PaymentTuple[]> {
  let last: { seen: string | Date; id: string } | null = null;
  for (;;) {
    const rows = await paymentsPage(db, p, last);
    if (rows.length === 0) return;
    const tail = rows[rows.length - 1] as PaymentPageRow;
    last = { seen: tail.seen_at, id: tail.id };
    yield rows.map(
      (r): PaymentTuple => [
        r.id,
        r.seen_at,
        r.txid,
        r.output_index,
        r.amount,
        r.credited,
        r.asset,
        r.network,
        r.invoice_id,
        r.merchant_order_id,
        r.status,
        r.price_amount,
        r.price_currency,
        String(r.refunded_amount),
        r.rate_value,
        r.option_asset === r.asset && r.option_network === r.network ? 1 : 0,
      ],
    );
    if (rows.length < PAGE) return;
  }
}

/** One page of confirmed payments in the period, in (seen_at, id) order, after `after`. */
function paymentsPage(
  db: Kysely<Schema>,
  p: ReportParams,
  after: { seen: string | Date; id: string } | null,
) {
  // The range starts at the last page's time, so each page seeks instead of rescanning.
  const startAt: string | Date = after === null ? iso(p.from) : after.seen;
  let q = db
    .selectFrom('payments as p')
    .innerJoin('invoices as i', 'i.id', 'p.invoice_id')
    .innerJoin('payment_options as o', 'o.id', 'p.option_id')
    .select([
      'p.id',
      'p.seen_at',
      'p.txid',
      'p.output_index',
      'p.amount',
      'p.credited',
      'p.asset',
      'p.network',
      'p.invoice_id',
      'i.merchant_order_id',
      'i.status',
      'i.price_amount',
      'i.price_currency',
      'i.refunded_amount',
      'o.rate_value',
      'o.asset as option_asset',
      'o.network as option_network',
    ])
    .where('p.merchant_id', '=', p.merchantId)
    .where('p.removed', '=', 0)
    .where('p.block_height', 'is not', null)
    .where('p.seen_at', '>=', startAt as never)
    .where('p.seen_at', '<', iso(p.to) as never)
    .orderBy('p.seen_at')
    .orderBy('p.id')
    .limit(PAGE);
  if (after) {
    const at = after;
    // A row-value comparison walks the (seen_at, id) index from where the last page ended.
    q = q.where((eb) => eb(eb.refTuple('p.seen_at', 'p.id'), '>', eb.tuple(at.seen as never, at.id)));
  }
  return q.execute();
}

async function movementRows(
  db: Kysely<Schema>,
  p: ReportParams,
  bucket: (
    asset: string,
    network: string,
  ) => { refunded: bigint; swept: bigint; fees: bigint; spent: bigint },
  totals: ReportTotals,
): Promise<ReportRow[]> {
  const rows = await db
    .selectFrom('settlement_movements')
    .selectAll()
    .where('merchant_id', '=', p.merchantId)
    // Reversed by a reorg: its booking and its reversal cancel out, and the chain does not show it.
    .where('removed', '=', 0)
    .where('seen_at', '>=', iso(p.from) as never)
    .where('seen_at', '<', iso(p.to) as never)
    .orderBy('seen_at')
    .orderBy('id')
    .execute();
  totals.movements = rows.length;
  const sources = await fiatSourcesByMovement(
    db,
    rows.map((m) => m.id),
  );
  const feesFiat = new Map<string, bigint>();
  const out = rows.map((m) => {
    const decimals = findAsset(m.asset, m.network)?.decimals ?? 0;
    const b = bucket(m.asset, m.network);
    b.spent += unitsFromDb(m.inputs_value);
    b.refunded += unitsFromDb(m.refunded);
    b.swept += unitsFromDb(m.swept);
    b.fees += unitsFromDb(m.fee);
    const row = blankRow();
    row.type = 'movement';
    row.time = toDate(m.seen_at).toISOString();
    row.asset = m.asset;
    row.network = m.network;
    row.txid = m.txid;
    row.amount = formatAmount(unitsFromDb(m.inputs_value), decimals);
    row.amount_base_units = m.inputs_value;
    row.fee = formatAmount(unitsFromDb(m.fee), decimals);
    row.refunded = formatAmount(unitsFromDb(m.refunded), decimals);
    row.swept = formatAmount(unitsFromDb(m.swept), decimals);
    row.settlement_batch_id = m.batch_id ?? '';
    row.settlement_txid = m.txid;
    row.refund_ids = m.refund_id ?? '';
    // The whole network fee (also the part a full refund took from the customer) at the rates of
    // the invoices the movement drew on, like the ledger's entries of it.
    const fee = movementFiatUnits(unitsFromDb(m.fee), sources.get(m.id) ?? []);
    if (fee) {
      row.fiat_currency = fee.currency;
      row.fee_fiat_value = formatAmount(fee.units, placesOf(fee.currency));
      feesFiat.set(fee.currency, (feesFiat.get(fee.currency) ?? 0n) + fee.units);
    }
    return row;
  });
  totals.fees_fiat = Object.fromEntries(
    [...feesFiat].map(([c, u]) => [c, formatAmount(u, currencyDecimals(c) ?? 0)]),
  );
  return out;
}

async function refundRows(db: Kysely<Schema>, p: ReportParams, totals: ReportTotals): Promise<ReportRow[]> {
  const rows = await db
    .selectFrom('refunds')
    .innerJoin('invoices', 'invoices.id', 'refunds.invoice_id')
    .innerJoin('payment_options', 'payment_options.id', 'refunds.option_id')
    .select([
      'refunds.id',
      'refunds.invoice_id',
      'refunds.asset',
      'refunds.network',
      'refunds.amount',
      'refunds.txid',
      'refunds.fee',
      'refunds.completed_at',
      'invoices.merchant_order_id',
      'invoices.status',
      'invoices.price_currency',
      'payment_options.rate_value',
    ])
    .where('refunds.merchant_id', '=', p.merchantId)
    .where('refunds.status', '=', 'completed')
    .where('refunds.completed_at', '>=', iso(p.from) as never)
    .where('refunds.completed_at', '<', iso(p.to) as never)
    .orderBy('refunds.id')
    .execute();
  totals.refunds = rows.length;
  return rows.map((r) => {
    const decimals = findAsset(r.asset, r.network)?.decimals ?? 0;
    const row = blankRow();
    row.type = 'refund';
    row.time = r.completed_at ? toDate(r.completed_at).toISOString() : '';
    row.merchant_order_id = r.merchant_order_id ?? '';
    row.invoice_id = r.invoice_id;
    row.invoice_status = r.status;
    row.asset = r.asset;
    row.network = r.network;
    row.txid = r.txid ?? '';
    row.amount = formatAmount(unitsFromDb(r.amount), decimals);
    row.amount_base_units = r.amount;
    const fee = bookedFee(r); // blank for a token refund, whose gas is not booked
    row.fee = fee === null ? '' : formatAmount(unitsFromDb(fee), decimals);
    const feeFiat =
      fee === null
        ? null
        : fiatUnits(unitsFromDb(fee), { code: r.asset, decimals, rate: r.rate_value }, r.price_currency);
    if (feeFiat !== null) {
      row.fiat_currency = r.price_currency;
      row.fee_fiat_value = formatAmount(feeFiat, placesOf(r.price_currency));
    }
    row.settlement_txid = r.txid ?? '';
    row.refund_ids = r.id;
    return row;
  });
}

export function emptyTotals(): ReportTotals {
  return { crypto: {}, fiat: {}, fees_fiat: {}, payments: 0, movements: 0, refunds: 0 };
}
