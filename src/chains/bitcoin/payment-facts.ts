import type { Transaction } from 'kysely';
import type { Tally } from '../../context.ts';
import { newId } from '../../core/ids.ts';
import type { Schema } from '../../db/schema.ts';
import { isFlagSet } from '../../db/values.ts';
import type { Fact, ObservedPayment } from '../../invoices/facts.ts';
import { applyToOption } from '../apply-to-option.ts';
import type { MatchedOutput } from './detect.ts';
import type { BitcoinTx } from './raw-transaction.ts';

/**
 * Turns what the chain showed into invoice facts, inside the watcher's transaction. Fact ids are
 * fresh per observation: exactly-once comes from writing the facts and the chain cursor in one
 * transaction, and a payment output is recorded once by its unique (network, txid, vout, option).
 */
type Trx = Transaction<Schema>;

export interface Inclusion {
  hash: string;
  height: number;
  time: Date;
  /** The height the confirmations are counted against (the block being processed). */
  tipHeight: number;
  /**
   * When the watcher last had the whole chain and mempool read: a payment first seen in this block
   * was not visible then, so it was made after this moment (null before the first full read).
   */
  notBefore: Date | null;
}

const factId = (label: string) => `${label}:${newId('obs')}`;

export function observed(
  tx: BitcoinTx,
  output: MatchedOutput,
  at: Inclusion | null,
  now: Date,
  rbf: boolean,
): ObservedPayment {
  return {
    paymentId: newId('pay'),
    optionId: output.optionId,
    txid: tx.txid,
    outputIndex: output.outputIndex,
    amount: output.amount,
    rbf,
    confirmations: at ? at.tipHeight - at.height + 1 : 0,
    blockHash: at?.hash ?? null,
    blockHeight: at?.height ?? null,
    seenAt: at ? firstSeenInBlock(at, now) : now,
  };
}

/**
 * When a payment first seen in a block was made. The miner's timestamp is only a claim (it may be
 * hours off), so it is clamped: not before the watcher's last complete read of the chain (the
 * payment was not visible then) and not after now. After downtime this dates a payment by its
 * block rather than by the catch-up, so a payment mined before expiry is not called late.
 */
export function firstSeenInBlock(at: Inclusion, now: Date): Date {
  let seen = at.time;
  if (at.notBefore && seen < at.notBefore) seen = at.notBefore;
  return seen < now ? seen : now;
}

/** Records each watched output of a transaction: new ones as payments, known ones with their block. */
export async function recordOutputs(
  tally: Tally,
  trx: Trx,
  network: string,
  tx: BitcoinTx,
  outputs: readonly MatchedOutput[],
  at: Inclusion | null,
  rbf: boolean,
): Promise<void> {
  const now = tally.clock.now();
  for (const output of outputs) {
    const existing = await trx
      .selectFrom('payments')
      .select(['id', 'block_hash', 'removed'])
      .where('network', '=', network)
      .where('txid', '=', tx.txid)
      .where('output_index', '=', output.outputIndex)
      .where('option_id', '=', output.optionId)
      .executeTakeFirst();
    if (!existing) {
      const payment = observed(tx, output, at, now, rbf);
      await applyToOption(tally, trx, output.optionId, {
        kind: 'payment_seen',
        id: factId('seen'),
        payment,
      });
    } else if (at && (existing.block_hash !== at.hash || isFlagSet(existing.removed))) {
      await applyToOption(tally, trx, output.optionId, {
        kind: 'payment_confirmations',
        id: factId('mined'),
        paymentId: existing.id,
        confirmations: at.tipHeight - at.height + 1,
        blockHash: at.hash,
        blockHeight: at.height,
      });
    }
  }
}

/**
 * A watched transaction lost: replaced (RBF, in the mempool), double-spent (a conflicting
 * transaction mined) or dropped. Payments it made are removed; where the conflicting transaction
 * pays the same option, that output becomes the payment's replacement.
 */
export async function removeTransaction(
  tally: Tally,
  trx: Trx,
  network: string,
  txid: string,
  reason: 'replaced' | 'double_spent' | 'dropped',
  by: { tx: BitcoinTx; outputs: readonly MatchedOutput[]; at: Inclusion | null; rbf: boolean } | null,
): Promise<void> {
  const now = tally.clock.now();
  const payments = await trx
    .selectFrom('payments')
    .select(['id', 'option_id'])
    .where('network', '=', network)
    .where('txid', '=', txid)
    .where('removed', '=', 0)
    .execute();
  for (const payment of payments) {
    const output = by?.outputs.find((o) => o.optionId === payment.option_id);
    const fact: Fact = { kind: 'payment_removed', id: factId(reason), paymentId: payment.id, reason };
    if (by && output) fact.replacement = observed(by.tx, output, by.at, now, by.rbf);
    await applyToOption(tally, trx, payment.option_id, fact);
  }
}

/** Payments mined in a block the chain no longer has go back to zero confirmations. */
export async function reorgBlock(
  tally: Tally,
  trx: Trx,
  network: string,
  blockHash: string,
): Promise<number> {
  const payments = await trx
    .selectFrom('payments')
    .select(['id', 'option_id'])
    .where('network', '=', network)
    .where('block_hash', '=', blockHash)
    .where('removed', '=', 0)
    .execute();
  for (const payment of payments) {
    await applyToOption(tally, trx, payment.option_id, {
      kind: 'payment_reorged',
      id: factId('reorged'),
      paymentId: payment.id,
    });
  }
  return payments.length;
}

/** Payments still short of their depth (or of six) move one block deeper. */
export async function refreshConfirmations(
  tally: Tally,
  trx: Trx,
  network: string,
  tipHeight: number,
): Promise<void> {
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
    .where('payments.network', '=', network)
    .where('payments.removed', '=', 0)
    .where('payments.block_height', 'is not', null)
    .where((eb) =>
      eb.or([
        eb('payments.confirmations', '<', eb.ref('payment_options.required_confirmations')),
        eb('payments.confirmations', '<', 6),
      ]),
    )
    .execute();
  for (const row of rows) {
    if (row.block_height === null) continue;
    const confirmations = tipHeight - row.block_height + 1;
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
