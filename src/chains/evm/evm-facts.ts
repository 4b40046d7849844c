import type { Transaction } from 'kysely';
import type { Tally } from '../../context.ts';
import { newId } from '../../core/ids.ts';
import type { NetworkDefinition } from '../../core/registry.ts';
import type { Schema } from '../../db/schema.ts';
import { isFlagSet } from '../../db/values.ts';
import type { ObservedPayment } from '../../invoices/facts.ts';
import { applyToOption } from '../apply-to-option.ts';
import { firstSeenInBlock } from '../bitcoin/payment-facts.ts';
import type { EvmTransfer } from './detect.ts';
import { reportedConfirmations } from './finality.ts';

/**
 * Turns EVM transfers into invoice facts inside the watcher's block transaction (as the Bitcoin
 * watcher does): new transfers become payments (misdirected ones uncredited, with an exception),
 * known ones follow their block, and depth is refreshed under the network's finality rule.
 * Exactly-once comes from the cursor written in the same transaction and the payments' unique
 * (network, txid, output_index, option_id), where output_index is the log index.
 */
type Trx = Transaction<Schema>;

export interface BlockContext {
  network: NetworkDefinition;
  hash: string;
  height: number;
  time: Date;
  tipHeight: number;
  finalizedHeight: number | null;
  /** The watcher's last complete read of the chain: nothing in this block was visible before it. */
  notBefore: Date | null;
}

const factId = (label: string) => `${label}:${newId('obs')}`;

function observed(transfer: EvmTransfer, at: BlockContext, now: Date): ObservedPayment {
  const payment: ObservedPayment = {
    paymentId: newId('pay'),
    optionId: transfer.option.optionId,
    txid: transfer.txid,
    outputIndex: transfer.index,
    amount: transfer.amount,
    // Seen only once mined: nothing to replace, nothing settles at zero confirmations.
    rbf: false,
    confirmations: reportedConfirmations(at.network, at.height, at.tipHeight, at.finalizedHeight),
    blockHash: at.hash,
    blockHeight: at.height,
    seenAt: firstSeenInBlock({ ...at, notBefore: at.notBefore }, now),
  };
  if (transfer.misdirection) {
    payment.misdirected = {
      kind: transfer.misdirection,
      network: at.network.id,
      asset: transfer.asset.code,
      decimals: transfer.asset.decimals,
      evidence: {
        chain_id: at.network.chainId ?? null,
        contract: transfer.asset.contract,
        tx_hash: transfer.txid,
        log_index: transfer.index,
        block_number: transfer.blockNumber,
        block_hash: transfer.blockHash,
        from: transfer.from,
        to: transfer.to,
      },
    };
  }
  return payment;
}

/** Records each transfer of a block: new ones as payments, known ones with their (new) block. */
export async function recordTransfers(
  tally: Tally,
  trx: Trx,
  transfers: readonly EvmTransfer[],
  at: BlockContext,
): Promise<void> {
  const now = tally.clock.now();
  for (const transfer of transfers) {
    const existing = await trx
      .selectFrom('payments')
      .select(['id', 'block_hash', 'removed'])
      .where('network', '=', at.network.id)
      .where('txid', '=', transfer.txid)
      .where('output_index', '=', transfer.index)
      .where('option_id', '=', transfer.option.optionId)
      .executeTakeFirst();
    if (!existing) {
      await applyToOption(tally, trx, transfer.option.optionId, {
        kind: 'payment_seen',
        id: factId('seen'),
        payment: observed(transfer, at, now),
      });
    } else if (existing.block_hash !== at.hash || isFlagSet(existing.removed)) {
      // Re-mined after a reorg (or back after it was given up): same payment, new block.
      await applyToOption(tally, trx, transfer.option.optionId, {
        kind: 'payment_confirmations',
        id: factId('mined'),
        paymentId: existing.id,
        confirmations: reportedConfirmations(at.network, at.height, at.tipHeight, at.finalizedHeight),
        blockHash: at.hash,
        blockHeight: at.height,
      });
    }
  }
}

/** Payments not yet at their depth (or the network default) move deeper under the finality rule. */
export async function refreshConfirmations(tally: Tally, trx: Trx, at: BlockContext): Promise<void> {
  const rows = await trx
    .selectFrom('payments')
    .innerJoin('payment_options', 'payment_options.id', 'payments.option_id')
    .select([
      'payments.id',
      'payments.option_id',
      'payments.confirmations',
      'payments.block_hash',
      'payments.block_height',
    ])
    .where('payments.network', '=', at.network.id)
    .where('payments.removed', '=', 0)
    .where('payments.block_height', 'is not', null)
    .where((eb) =>
      eb.or([
        eb('payments.confirmations', '<', eb.ref('payment_options.required_confirmations')),
        eb('payments.confirmations', '<', at.network.defaultConfirmations),
      ]),
    )
    .execute();
  for (const row of rows) {
    if (row.block_height === null) continue;
    const confirmations = reportedConfirmations(
      at.network,
      row.block_height,
      at.tipHeight,
      at.finalizedHeight,
    );
    if (confirmations === row.confirmations) continue;
    await applyToOption(tally, trx, row.option_id, {
      kind: 'payment_confirmations',
      id: factId('depth'),
      paymentId: row.id,
      confirmations,
      blockHash: row.block_hash,
      blockHeight: row.block_height,
    });
  }
}

/** Payments of this network that a reorg left without a block, for the vanished-transaction check. */
export async function unminedPayments(trx: Trx | Tally['database']['db'], network: string) {
  return trx
    .selectFrom('payments')
    .select(['id', 'option_id', 'txid'])
    .where('network', '=', network)
    .where('removed', '=', 0)
    .where('block_hash', 'is', null)
    .execute();
}

/**
 * A reorg took the transaction out of the chain and the node no longer knows it (not re-mined, not
 * pending): the payment is removed, so the invoice no longer counts money that does not exist.
 */
export async function removeVanished(
  tally: Tally,
  trx: Trx,
  payment: { id: string; option_id: string },
): Promise<void> {
  await applyToOption(tally, trx, payment.option_id, {
    kind: 'payment_removed',
    id: factId('vanished'),
    paymentId: payment.id,
    reason: 'dropped',
  });
}
