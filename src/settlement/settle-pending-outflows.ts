import type { Tally } from '../context.ts';
import { unitsFromDb } from '../core/money.ts';
import { findAsset } from '../core/registry.ts';
import '../db/schema-outflows.ts';
import { recordEvmMovement } from './record-evm-movement.ts';

/**
 * Books the pending outflows (pending-outflows.ts) no approved refund awaits any more, each in its
 * own transaction through the watcher's own `recordEvmMovement`: a transfer a refund completed
 * from is already that refund's movement (nothing is booked twice; the row goes), one an approved
 * refund still awaits stays, and any other — its refund paid by another transfer (a refund is
 * neither cancelled while its transfer is pending nor loses it to a rebuild, decision 0011 §18) —
 * is booked as the sweep it now is. Only final blocks (`finalHeight`), as the
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
      // Booked from the row as it is now, not the copy read above: settled meanwhile (the refund
      // job), or its block rolled back and the transfer mined again elsewhere (another hash, maybe
      // a block not final yet) — then the old copy would book a block that is not the chain's.
      const now = await trx
        .selectFrom('evm_pending_outflows')
        .selectAll()
        .where('network', '=', network)
        .where('txid', '=', row.txid)
        .where('log_index', '=', row.log_index)
        .executeTakeFirst();
      if (!now || now.block_hash !== row.block_hash || now.block_height > Number(finalHeight)) return null;
      return recordEvmMovement(
        tally,
        trx,
        network,
        {
          txid: now.txid,
          index: now.log_index,
          amount: unitsFromDb(now.amount),
          asset,
          from: now.from_address,
          to: now.to_address,
          option: { optionId: now.option_id, network, asset: now.asset },
        },
        unitsFromDb(now.fee),
        { hash: now.block_hash, height: now.block_height, seenAt: new Date(now.seen_at) },
      );
    });
    if (id !== null) booked += 1;
  }
  return booked;
}
