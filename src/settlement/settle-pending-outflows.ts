import type { Tally } from '../context.ts';
import { unitsFromDb } from '../core/money.ts';
import { findAsset } from '../core/registry.ts';
import '../db/schema-outflows.ts';
import { recordEvmMovement } from './record-evm-movement.ts';

/**
 * Books the pending outflows (pending-outflows.ts) no approved refund awaits any more, each in its
 * own transaction through the watcher's own `recordEvmMovement`: a transfer a refund completed
 * from is already that refund's movement (nothing is booked twice; the row goes), one an approved
 * refund still awaits stays, and any other — its refund cancelled, rebuilt after it, or paid by
 * another transfer — is booked as the sweep it now is. Only final blocks (`finalHeight`), as the
 * refund job completes refunds: a block that may still leave the chain is not booked from here.
 * Run by the refund job after its refunds, so a refund completing in the same run wins.
 */
export async function settlePendingOutflows(
  tally: Tally,
  network: string,
  finalHeight: bigint,
): Promise<number> {
  const rows = await tally.database.db
    .selectFrom('evm_pending_outflows')
    .selectAll()
    .where('network', '=', network)
    .where('block_height', '<=', Number(finalHeight))
    .orderBy('block_height')
    .orderBy('log_index')
    .execute();
  let booked = 0;
  for (const row of rows) {
    const asset = findAsset(row.asset, network);
    if (!asset) continue;
    const id = await tally.database.write(async (trx) => {
      // Settled meanwhile (the refund job, a roll-back): nothing to do.
      const still = await trx
        .selectFrom('evm_pending_outflows')
        .select('block_hash')
        .where('network', '=', network)
        .where('txid', '=', row.txid)
        .where('log_index', '=', row.log_index)
        .executeTakeFirst();
      if (!still) return null;
      return recordEvmMovement(
        tally,
        trx,
        network,
        {
          txid: row.txid,
          index: row.log_index,
          amount: unitsFromDb(row.amount),
          asset,
          from: row.from_address,
          to: row.to_address,
          option: { optionId: row.option_id, network, asset: row.asset },
        },
        unitsFromDb(row.fee),
        { hash: row.block_hash, height: row.block_height, seenAt: new Date(row.seen_at) },
      );
    });
    if (id !== null) booked += 1;
  }
  return booked;
}
