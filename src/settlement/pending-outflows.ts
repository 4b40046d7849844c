import type { Kysely, Transaction } from 'kysely';
import type { EvmOutflow } from '../chains/evm/detect-outgoing.ts';
import type { Schema } from '../db/schema.ts';
import '../db/schema-outflows.ts';
import { iso } from '../db/values.ts';
import type { MovementBlock } from './book-movement.ts';

/**
 * Transfers out of EVM invoice addresses the watcher left to the refund job (docs/decisions/0011
 * §17). The watcher sees each block once, so a transfer it skipped because an approved refund
 * awaited it was never looked at again: if that refund then completed from another transfer, was
 * cancelled or rebuilt, or was a native refund whose hash nobody reported, the money had left the
 * address without a movement. Remembered here, each is settled by `settlePendingOutflows`.
 */
export async function rememberPendingOutflow(
  trx: Transaction<Schema>,
  network: string,
  out: EvmOutflow,
  fee: bigint,
  block: MovementBlock,
  merchantId: string,
  now: Date,
): Promise<void> {
  await trx
    .insertInto('evm_pending_outflows')
    .values({
      network,
      txid: out.txid,
      log_index: out.index,
      merchant_id: merchantId,
      option_id: out.option.optionId,
      asset: out.asset.code,
      from_address: out.from,
      to_address: out.to,
      amount: out.amount.toString(),
      fee: fee.toString(),
      block_hash: block.hash,
      block_height: block.height,
      seen_at: iso(block.seenAt),
      created_at: iso(now),
    })
    .onConflict((oc) => oc.columns(['network', 'txid', 'log_index']).doNothing())
    .execute();
}

/** A movement now books the transfer (the refund's or a sweep): nothing is pending for it. */
export async function forgetPendingOutflow(
  trx: Transaction<Schema>,
  network: string,
  txid: string,
  logIndex: number,
): Promise<void> {
  await trx
    .deleteFrom('evm_pending_outflows')
    .where('network', '=', network)
    .where('txid', '=', txid)
    .where('log_index', '=', logIndex)
    .execute();
}

/** A reorg disconnected the block: its transfers did not happen (mined again, they are seen again). */
export async function forgetPendingOutflowsInBlock(
  trx: Transaction<Schema>,
  network: string,
  blockHash: string,
): Promise<void> {
  await trx
    .deleteFrom('evm_pending_outflows')
    .where('network', '=', network)
    .where('block_hash', '=', blockHash)
    .execute();
}

/**
 * Native transfers from the option's address to `destination` the watcher left to the refund job:
 * the candidates for a native refund whose hash was not reported (the job still checks each on
 * chain exactly as a reported hash).
 */
export async function pendingNativeTransfers(
  db: Kysely<Schema>,
  network: string,
  optionId: string,
  destination: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom('evm_pending_outflows')
    .select(['txid', 'to_address'])
    .where('network', '=', network)
    .where('option_id', '=', optionId)
    .where('log_index', '=', -1)
    .orderBy('block_height')
    .execute();
  return rows.filter((r) => r.to_address.toLowerCase() === destination.toLowerCase()).map((r) => r.txid);
}
