import type { Kysely, Transaction } from 'kysely';
import { TallyError } from '../core/errors.ts';
import { formatAmount, unitsFromDb } from '../core/money.ts';
import { findAsset, listAssets } from '../core/registry.ts';
import type { Schema } from '../db/schema.ts';
import type { RefundsTable } from '../db/schema-money.ts';
import { toDate, toDateOrNull } from '../db/values.ts';

type Db = Kysely<Schema> | Transaction<Schema>;

/** Refunds still holding part of the invoice's refundable money. */
export const OPEN_REFUND_STATUSES = ['awaiting_destination', 'pending_approval', 'approved'] as const;

export async function loadRefund(db: Db, merchantId: string, id: string): Promise<RefundsTable> {
  const row = await db
    .selectFrom('refunds')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst();
  if (!row) throw new TallyError('not_found', `No refund ${id}.`);
  return row;
}

/**
 * The coin a refund's network fee is paid in: the network's native coin (BTC, ETH, POL), which is
 * not the refunded asset for a token refund — USDC's gas is paid in wei of ETH/POL.
 */
function feeAssetOf(network: string) {
  return listAssets().find((a) => a.network === network && a.contract === null);
}

/**
 * A refund's fee as booked, in base units of the native coin; null when it is not booked: a token
 * refund's gas is paid in the native coin from another balance (evm-refund-watch.ts stores 0), so
 * its fee is unknown, not "0".
 */
export function bookedFee(r: Pick<RefundsTable, 'asset' | 'network' | 'fee'>): string | null {
  return findAsset(r.asset, r.network)?.contract != null ? null : r.fee;
}

export function serializeRefund(r: RefundsTable) {
  const decimals = findAsset(r.asset, r.network)?.decimals ?? 0;
  const feeAsset = feeAssetOf(r.network);
  const inUnits = (v: string | null, places: number) =>
    v === null ? null : formatAmount(unitsFromDb(v), places);
  const amount = (v: string | null) => inUnits(v, decimals);
  // fee_estimate and fee are stored in the native coin's base units (sat, wei) and stated in it.
  const fee = (v: string | null) => inUnits(v, feeAsset?.decimals ?? decimals);
  const unsigned = r.unsigned_tx ? (JSON.parse(r.unsigned_tx) as Record<string, unknown>) : null;
  return {
    id: r.id,
    object: 'refund' as const,
    invoice_id: r.invoice_id,
    kind: r.kind,
    status: r.status,
    asset: r.asset,
    network: r.network,
    amount: amount(r.amount),
    amount_base_units: r.amount,
    destination: r.destination,
    reason: r.reason,
    requested_by: r.requested_by,
    approved_by: r.approved_by,
    approval_reason: r.approval_reason,
    unsigned_transaction: unsigned,
    fee_estimate: fee(r.fee_estimate),
    txid: r.txid,
    fee: fee(bookedFee(r)),
    /** The asset `fee_estimate` and `fee` are in: the network's native coin, which pays the fee. */
    fee_asset: feeAsset?.code ?? r.asset,
    created_at: toDate(r.created_at).toISOString(),
    approved_at: toDateOrNull(r.approved_at)?.toISOString() ?? null,
    completed_at: toDateOrNull(r.completed_at)?.toISOString() ?? null,
  };
}
