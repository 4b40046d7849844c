import type { Tally } from '../context.ts';
import { unitsFromDb } from '../core/money.ts';
import type { RefundsTable } from '../db/schema-money.ts';
import { iso } from '../db/values.ts';
import { buildEvmTransfer, evmRpcFor } from './evm-transfer.ts';
import { loadRefund, serializeRefund } from './refund-rows.ts';

/**
 * The unsigned EIP-1559 refund from the invoice's address. An ERC-20 refund completes when its
 * Transfer log is final (src/refunds/evm-refund-watch.ts); a native-coin refund's completion is
 * not detected yet and it stays `approved` (docs/decisions/0011).
 */
export async function buildEvmRefund(tally: Tally, refund: RefundsTable) {
  const option = await tally.database.db
    .selectFrom('payment_options')
    .select(['address'])
    .where('id', '=', refund.option_id)
    .executeTakeFirstOrThrow();
  const amount = unitsFromDb(refund.amount);
  const transfer = await buildEvmTransfer(evmRpcFor(tally, refund.network), {
    network: refund.network,
    asset: refund.asset,
    from: option.address,
    to: refund.destination as string,
    amount,
    // A native refund of everything at the address pays its gas from the refund itself.
    gasFromAmount: refund.kind === 'full',
  });
  // Rebuilt (new fees, a stuck nonce), an earlier build may already be signed and mined: the refund
  // must still complete from that transfer, so its search keeps starting at the earliest build's
  // block (else the earlier transfer would be booked as a sweep, docs/decisions/0011 §18).
  const earlier = refund.unsigned_tx ? (JSON.parse(refund.unsigned_tx) as { from_block?: string }) : {};
  if (earlier.from_block !== undefined && BigInt(earlier.from_block) < BigInt(transfer.from_block))
    transfer.from_block = earlier.from_block;
  await tally.database.write((trx) =>
    trx
      .updateTable('refunds')
      .set({
        unsigned_tx: JSON.stringify(transfer),
        // Wei of the native coin, whatever the refunded asset: serializeRefund states it as fee_asset.
        fee_estimate: transfer.gas_needed,
        send_amount: transfer.amount,
        updated_at: iso(tally.clock.now()),
      })
      .where('id', '=', refund.id)
      .where('status', '=', 'approved')
      .execute(),
  );
  return serializeRefund(await loadRefund(tally.database.db, refund.merchant_id, refund.id));
}
