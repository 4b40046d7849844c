import type { Transaction } from 'kysely';
import { TallyError } from '../core/errors.ts';
import { unitsFromDb } from '../core/money.ts';
import type { Schema } from '../db/schema.ts';
import type { RefundsTable } from '../db/schema-money.ts';
import '../db/schema-outflows.ts';
import { awaitsRefundJob } from './evm-refund-match.ts';

/**
 * Refuses to cancel an EVM refund whose transfer is already mined and awaits finality (a pending
 * outflow the refund job would complete it from, docs/decisions/0011 §18). Cancelled then, the
 * customer's money would be booked as a sweep to the merchant once final: the transfer cannot be
 * undone, so the refund completes from it instead. A transfer not yet mined (or not yet seen by
 * the watcher) does not stop the cancel; mined later, it is booked as what it then is, a sweep.
 */
export async function refuseCancelInFlight(trx: Transaction<Schema>, refund: RefundsTable): Promise<void> {
  if (refund.status !== 'approved' || refund.unsigned_tx === null) return;
  const rows = await trx
    .selectFrom('evm_pending_outflows')
    .select(['txid', 'log_index', 'to_address', 'amount', 'block_height'])
    .where('network', '=', refund.network)
    .where('option_id', '=', refund.option_id)
    .where('asset', '=', refund.asset)
    .orderBy('block_height')
    .execute();
  const mined = rows.find((row) =>
    awaitsRefundJob(
      refund,
      { txid: row.txid, to: row.to_address, amount: unitsFromDb(row.amount), native: row.log_index === -1 },
      row.block_height,
    ),
  );
  if (mined)
    throw new TallyError(
      'refund_in_flight',
      `Transaction ${mined.txid} paying this refund is mined and awaits finality; the refund completes from it and cannot be cancelled.`,
    );
}
