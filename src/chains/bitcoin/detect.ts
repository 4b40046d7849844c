import { outpoint } from './chain-store.ts';
import type { BitcoinTx } from './raw-transaction.ts';
import type { WatchSet } from './watch-set.ts';

export interface MatchedOutput {
  outputIndex: number;
  amount: bigint;
  optionId: string;
}

export interface Detection {
  /** Transactions paying watched addresses, each with every output that pays one. */
  payments: Array<{ tx: BitcoinTx; outputs: MatchedOutput[] }>;
  /** A watched transaction that `by` conflicts with (spends one of the same outputs). */
  conflicts: Array<{ replacedTxid: string; by: BitcoinTx }>;
  /** Transactions spending outputs that paid watched addresses: money leaving an invoice address. */
  spends: Array<{ tx: BitcoinTx; outpoints: string[] }>;
}

const NOTHING_OWNED: ReadonlySet<string> = new Set();

/**
 * What a list of transactions (a block, or new mempool entries) means for the watched addresses:
 * pure, so the hot loop of matching a block is measured on its own (bench/bitcoin.ts).
 * Every output to a watched script counts: an exchange batch paying three invoices yields three.
 * `owned` holds the outpoints of recorded payments, so a transaction spending one (a sweep or a
 * refund the merchant signed) is reported as a spend (docs/decisions/0011).
 */
export function detect(
  transactions: readonly BitcoinTx[],
  watchSet: WatchSet,
  spentBy: ReadonlyMap<string, string>,
  owned: ReadonlySet<string> = NOTHING_OWNED,
): Detection {
  const detection: Detection = { payments: [], conflicts: [], spends: [] };
  const replaced = new Set<string>();
  for (const tx of transactions) {
    if (spentBy.size > 0 && !tx.coinbase) {
      for (const input of tx.inputs) {
        const watched = spentBy.get(outpoint(input.prevTxid, input.prevVout));
        if (watched !== undefined && watched !== tx.txid && !replaced.has(watched)) {
          replaced.add(watched);
          detection.conflicts.push({ replacedTxid: watched, by: tx });
        }
      }
    }
    if (owned.size > 0 && !tx.coinbase) {
      const spent: string[] = [];
      for (const input of tx.inputs) {
        const point = outpoint(input.prevTxid, input.prevVout);
        if (owned.has(point)) spent.push(point);
      }
      if (spent.length > 0) detection.spends.push({ tx, outpoints: spent });
    }
    let outputs: MatchedOutput[] | undefined;
    for (let i = 0; i < tx.outputs.length; i++) {
      const output = tx.outputs[i] as BitcoinTx['outputs'][number];
      const optionId = watchSet.optionFor(output.script);
      if (optionId === undefined) continue;
      outputs ??= [];
      outputs.push({ outputIndex: i, amount: output.value, optionId });
    }
    if (outputs) detection.payments.push({ tx, outputs });
  }
  return detection;
}
