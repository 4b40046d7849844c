import type { Transaction } from 'kysely';
import { TallyError } from '../core/errors.ts';
import { formatAmount, unitsFromDb } from '../core/money.ts';
import { findAsset } from '../core/registry.ts';
import type { DialectName } from '../db/connect.ts';
import type { Schema } from '../db/schema.ts';
import type { RefundsTable } from '../db/schema-money.ts';
import '../db/schema-money.ts';
import { loadInvoice } from '../invoices/invoice-store.ts';
import type { InvoiceRecord } from '../invoices/record.ts';
import { OPEN_REFUND_STATUSES } from './refund-rows.ts';

/**
 * How much of an invoice is still refundable is a read-then-write: read what is received and
 * promised, then record a refund against the rest. Read outside the write, parallel requests each
 * saw the whole amount free and each promised it. So the read happens in the refund's own write
 * transaction, after `lockInvoiceForRefund`: on PostgreSQL the invoice row's lock (SELECT … FOR
 * UPDATE) queues the other refunds of the invoice until this one commits, and under READ COMMITTED
 * every statement after the lock sees what they committed; on SQLite the single writer already
 * runs one unit at a time, and reading through the unit's transaction sees the units before it.
 * The payment watchers and refund bookers take the same lock (loadInvoice … forUpdate), so
 * "received" and "refunded" cannot move under the check either.
 */
export async function lockInvoiceForRefund(
  trx: Transaction<Schema>,
  dialect: DialectName,
  merchantId: string,
  invoiceId: string,
): Promise<InvoiceRecord> {
  const invoice = await loadInvoice(trx, dialect, merchantId, invoiceId, true);
  if (!invoice) throw new TallyError('not_found', `No invoice ${invoiceId}.`);
  return invoice;
}

/** Credited payments not removed (by a reorg or a drop), in base units of the selected option. */
function receivedOf(invoice: InvoiceRecord): bigint {
  return invoice.payments.filter((p) => p.credited && !p.removed).reduce((s, p) => s + p.amount, 0n);
}

async function sumRefunds(
  trx: Transaction<Schema>,
  invoiceId: string,
  statuses: readonly string[],
): Promise<bigint> {
  const rows = await trx
    .selectFrom('refunds')
    .select('amount')
    .where('invoice_id', '=', invoiceId)
    .where('status', 'in', [...statuses])
    .execute();
  return rows.reduce((s, r) => s + unitsFromDb(r.amount), 0n);
}

/**
 * Credited money not removed, minus what is refunded or promised to open refunds. `invoice` must
 * come from `lockInvoiceForRefund` in the same transaction (see above).
 */
export async function refundable(trx: Transaction<Schema>, invoice: InvoiceRecord) {
  const option = invoice.options.find((o) => o.id === invoice.selectedOptionId);
  // Nothing credited yet: nothing to refund (and no selected option to measure an excess against).
  if (!option) return { available: 0n, excess: 0n };
  const received = receivedOf(invoice);
  const promised = await sumRefunds(trx, invoice.id, OPEN_REFUND_STATUSES);
  const available = received - invoice.refundedAmount - promised;
  const excess = received - option.amountDue - invoice.refundedAmount - promised;
  return { available, excess };
}

/**
 * Approval is where money is committed, so it checks again, in its write transaction under the
 * same invoice lock: the refunds approved (this one included, already set approved in `trx`) plus
 * what is already refunded must fit in what was received. A request checks this too, but refunds
 * recorded before that check was serialised, or a payment removed by a reorg since the request,
 * can leave more promised than received; then the first approvals that fit go through and the
 * rest are refused until some refund is cancelled. Other refunds still pending approval do not
 * block this one: each is checked the same way when it is approved.
 */
export async function refuseOverApproval(
  trx: Transaction<Schema>,
  dialect: DialectName,
  refund: RefundsTable,
): Promise<void> {
  const invoice = await lockInvoiceForRefund(trx, dialect, refund.merchant_id, refund.invoice_id);
  const received = receivedOf(invoice);
  const approved = await sumRefunds(trx, invoice.id, ['approved']);
  if (invoice.refundedAmount + approved <= received) return;
  const decimals = findAsset(refund.asset, refund.network)?.decimals ?? 0;
  const asset = (units: bigint) => `${formatAmount(units, decimals)} ${refund.asset}`;
  const committed = invoice.refundedAmount + approved - unitsFromDb(refund.amount);
  throw new TallyError(
    'invalid_state',
    `Approving this refund of ${asset(unitsFromDb(refund.amount))} would commit more than the ${asset(received)} received: ${asset(committed)} is already refunded or approved. Cancel this refund, or request a smaller one.`,
  );
}
