import type { Kysely, Transaction } from 'kysely';
import { unitsFromDb } from '../core/money.ts';
import { findAsset } from '../core/registry.ts';
import type { DialectName } from '../db/connect.ts';
import type { Schema } from '../db/schema.ts';
import { flag, isFlagSet, iso, toDate, toDateOrNull } from '../db/values.ts';
import { bookInvoice } from '../ledger/book.ts';
import { addTransitionEffects, emptyEffects, eventRow, insertEffects } from './effect-rows.ts';
import { eventSubjects } from './event-subjects.ts';
import type { Fact } from './facts.ts';
import type { Policy } from './policy.ts';
import type { InvoiceRecord } from './record.ts';
import { serializeInvoice } from './serialize.ts';
import type { TransitionResult } from './transition.ts';
import type { InvoiceStatus, Payment, PaymentOption, PaymentTiming, ReceivedInstead } from './types.ts';

type Db = Kysely<Schema> | Transaction<Schema>;

/** Loads one invoice of one merchant; on PostgreSQL `forUpdate` locks its row until commit. */
export async function loadInvoice(
  trx: Db,
  dialect: DialectName,
  merchantId: string,
  id: string,
  forUpdate = false,
): Promise<InvoiceRecord | undefined> {
  let query = trx
    .selectFrom('invoices')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', merchantId);
  if (forUpdate && dialect === 'postgres') query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) return undefined;
  const [options, payments] = await Promise.all([
    trx.selectFrom('payment_options').selectAll().where('invoice_id', '=', id).orderBy('position').execute(),
    trx.selectFrom('payments').selectAll().where('invoice_id', '=', id).orderBy('id').execute(),
  ]);
  const policy = JSON.parse(row.policy) as Policy;
  return {
    id: row.id,
    merchantId: row.merchant_id,
    status: row.status as InvoiceStatus,
    createdAt: toDate(row.created_at),
    expiresAt: toDate(row.expires_at),
    policy: {
      underpaymentToleranceBps: policy.underpayment_tolerance_bps,
      overpaymentToleranceBps: policy.overpayment_tolerance_bps,
      monitoringWindowSeconds: policy.monitoring_window_seconds,
    },
    policySnapshot: policy,
    options: options.map(
      (o): PaymentOption => ({
        id: o.id,
        asset: o.asset,
        network: o.network,
        address: o.address,
        walletId: o.wallet_id,
        derivationIndex: o.derivation_index,
        amountDue: unitsFromDb(o.amount_due),
        decimals: o.decimals,
        requiredConfirmations: o.required_confirmations,
        zeroConfAllowed: isFlagSet(o.zero_conf_allowed),
        confirmationReason: o.confirmation_reason,
        rate:
          o.rate_value && o.rate_source && o.rate_fetched_at
            ? { value: o.rate_value, source: o.rate_source, fetchedAt: toDate(o.rate_fetched_at) }
            : null,
      }),
    ),
    payments: payments.map(
      (p): Payment => ({
        id: p.id,
        optionId: p.option_id,
        txid: p.txid,
        outputIndex: p.output_index,
        amount: unitsFromDb(p.amount),
        confirmations: p.confirmations,
        blockHash: p.block_hash,
        blockHeight: p.block_height,
        rbf: isFlagSet(p.rbf),
        seenAt: toDate(p.seen_at),
        timing: p.timing as PaymentTiming,
        credited: isFlagSet(p.credited),
        removed: isFlagSet(p.removed),
        removedReason: p.removed_reason,
        ...receivedInstead(p, options),
      }),
    ),
    selectedOptionId: row.selected_option_id,
    refundedAmount: unitsFromDb(row.refunded_amount),
    manuallyPaid: isFlagSet(row.manually_paid),
    sequence: row.sequence,
    merchantOrderId: row.merchant_order_id,
    customerId: row.customer_id,
    description: row.description,
    priceAmount: unitsFromDb(row.price_amount),
    priceCurrency: row.price_currency,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    successUrl: row.success_url,
    cancelUrl: row.cancel_url,
    fulfilledAt: toDateOrNull(row.fulfilled_at),
    fulfilment: row.fulfilment ? (JSON.parse(row.fulfilment) as InvoiceRecord['fulfilment']) : null,
    updatedAt: toDate(row.updated_at),
    version: row.version,
  };
}

export class ConcurrentUpdateError extends Error {}

/**
 * Writes what one fact did, all in the caller's transaction: the invoice row (guarded by its
 * version), changed payments, transitions (unique on cause), exceptions, and the outbox events
 * carrying the invoice snapshot at their sequence number.
 */
export async function persistTransition(
  trx: Transaction<Schema>,
  dialect: DialectName,
  before: InvoiceRecord,
  result: TransitionResult,
  fact: Fact,
  now: Date,
): Promise<InvoiceRecord> {
  const after: InvoiceRecord = { ...before, ...result.invoice, updatedAt: now, version: before.version + 1 };
  const updated = await trx
    .updateTable('invoices')
    .set({
      status: after.status,
      selected_option_id: after.selectedOptionId,
      refunded_amount: after.refundedAmount.toString(),
      manually_paid: flag(after.manuallyPaid),
      sequence: after.sequence,
      version: after.version,
      updated_at: iso(now),
    })
    .where('id', '=', before.id)
    .where('version', '=', before.version)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1)
    throw new ConcurrentUpdateError(`invoice ${before.id} changed concurrently`);
  await trx
    .insertInto('applied_facts')
    .values({ invoice_id: before.id, fact_id: fact.id, created_at: iso(now) })
    .execute();
  await savePayments(trx, before, after, now);
  const rows = emptyEffects();
  addTransitionEffects(rows, after, result, now, await eventSubjects(trx, after.merchantId, fact));
  await insertEffects(trx, rows, dialect);
  // The books follow the records in the same transaction: a payment settled, reorged or refunded
  // is booked (or reversed) with the transition that says so (docs/decisions/0011).
  await bookInvoice(trx, before, after, fact.id, now);
  return after;
}

export async function insertEvent(
  trx: Db,
  merchantId: string,
  invoiceId: string | null,
  type: string,
  sequence: number,
  data: Record<string, unknown>,
  now: Date,
): Promise<string> {
  const row = eventRow(merchantId, invoiceId, type, sequence, data, now);
  await trx.insertInto('events').values(row).execute();
  return row.id;
}

async function savePayments(trx: Db, before: InvoiceRecord, after: InvoiceRecord, now: Date): Promise<void> {
  const previous = new Map(before.payments.map((p) => [p.id, p]));
  for (const p of after.payments) {
    const old = previous.get(p.id);
    const option = after.options.find((o) => o.id === p.optionId);
    const columns = {
      confirmations: p.confirmations,
      block_hash: p.blockHash,
      block_height: p.blockHeight,
      credited: flag(p.credited),
      removed: flag(p.removed),
      removed_reason: p.removedReason,
      updated_at: iso(now),
    };
    if (!old) {
      await trx
        .insertInto('payments')
        .values({
          id: p.id,
          invoice_id: after.id,
          option_id: p.optionId,
          merchant_id: after.merchantId,
          // A misdirected payment is stored as what arrived; loading compares it with its option.
          network: p.received?.network ?? option?.network ?? 'unknown',
          asset: p.received?.asset ?? option?.asset ?? 'unknown',
          txid: p.txid,
          output_index: p.outputIndex,
          amount: p.amount.toString(),
          rbf: flag(p.rbf),
          seen_at: iso(p.seenAt),
          timing: p.timing,
          ...columns,
        })
        .execute();
    } else if (
      old.confirmations !== p.confirmations ||
      old.blockHash !== p.blockHash ||
      old.credited !== p.credited ||
      old.removed !== p.removed
    ) {
      await trx.updateTable('payments').set(columns).where('id', '=', p.id).execute();
    }
  }
}

/**
 * An event about an invoice that is not a status change (fulfilment reported, exception resolved):
 * it still takes the invoice's next sequence number, so receivers can order every event of an
 * invoice, and it carries the invoice snapshot at that number. Call with the invoice loaded
 * FOR UPDATE in the same transaction.
 */
export async function emitInvoiceEvent(
  trx: Transaction<Schema>,
  before: InvoiceRecord,
  type: string,
  extra: Record<string, unknown>,
  now: Date,
  changes: Partial<Pick<InvoiceRecord, 'fulfilledAt' | 'fulfilment'>> = {},
): Promise<InvoiceRecord> {
  const after: InvoiceRecord = {
    ...before,
    ...changes,
    sequence: before.sequence + 1,
    version: before.version + 1,
    updatedAt: now,
  };
  const updated = await trx
    .updateTable('invoices')
    .set({
      fulfilled_at: after.fulfilledAt ? iso(after.fulfilledAt) : null,
      fulfilment: after.fulfilment ? JSON.stringify(after.fulfilment) : null,
      sequence: after.sequence,
      version: after.version,
      updated_at: iso(now),
    })
    .where('id', '=', before.id)
    .where('version', '=', before.version)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1)
    throw new ConcurrentUpdateError(`invoice ${before.id} changed concurrently`);
  await insertEvent(
    trx,
    before.merchantId,
    before.id,
    type,
    after.sequence,
    { invoice: serializeInvoice(after), ...extra },
    now,
  );
  return after;
}

/** A payment row whose network or asset differs from its option's is misdirected money. */
function receivedInstead(
  row: { option_id: string; network: string; asset: string },
  options: ReadonlyArray<{ id: string; network: string; asset: string }>,
): { received?: ReceivedInstead } {
  const option = options.find((o) => o.id === row.option_id);
  if (!option || (option.network === row.network && option.asset === row.asset)) return {};
  return {
    received: {
      kind: option.network !== row.network ? 'wrong_network' : 'wrong_asset',
      network: row.network,
      asset: row.asset,
      decimals: findAsset(row.asset, row.network)?.decimals ?? 0,
    },
  };
}
