import type { AssetDefinition } from '../../core/registry.ts';
import { NATIVE_OUTPUT_INDEX } from './detect.ts';
import type { EvmBlock, EvmLog } from './evm-node.ts';
import { decodeTransferLog } from './transfer-log.ts';
import { addressKey, type EvmWatchSet, type WatchedOption } from './watch-set.ts';

/**
 * Money leaving a watched invoice address (docs/decisions/0011): the merchant's sweep, or a refund
 * they signed. Booked as a movement when mined, beside the block's payments and cursor.
 */
export interface EvmOutflow {
  txid: string;
  /** The Transfer log's index, or NATIVE_OUTPUT_INDEX for the transaction's own value. */
  index: number;
  amount: bigint;
  asset: AssetDefinition;
  from: string;
  to: string;
  /** The option the sending address was allocated to (its merchant and invoice). */
  option: WatchedOption;
  /**
   * A native transaction that reverted: nothing reached `to` (amount 0), but its sender paid the
   * gas, booked as a fee-only movement so the books keep what the chain keeps at the address.
   */
  reverted?: boolean;
}

/**
 * ERC-20 Transfer logs (the same ones that count as incoming: decodeTransferLog) whose sender is a
 * watched address. Whoever sent the transaction (the owner, or a spender it approved), the tokens
 * left the invoice address.
 */
export function matchOutgoingLogs(
  logs: readonly EvmLog[],
  tokens: ReadonlyMap<string, AssetDefinition>,
  watchSet: EvmWatchSet,
): EvmOutflow[] {
  const found: EvmOutflow[] = [];
  for (const log of logs) {
    const transfer = decodeTransferLog(log, tokens);
    if (transfer === null) continue;
    const option = watchSet.get(transfer.fromKey);
    if (option === undefined) continue;
    found.push({
      txid: log.transactionHash,
      index: log.logIndex,
      amount: transfer.amount,
      asset: transfer.asset,
      from: `0x${transfer.fromKey}`,
      to: `0x${transfer.toKey}`,
      option,
    });
  }
  return found;
}

/**
 * Transactions sent by a watched address with a non-zero value. The caller adds their gas as the
 * movement's fee; a reverted one moved no value but still burned its gas, so the caller books it
 * with amount 0 (`reverted`). A zero-value transaction (e.g. a token sweep's `transfer` call) moves no native
 * coin out of the books: its gas was topped up from outside them (`gas_shortfall`) and is not booked,
 * whether it succeeded or reverted (booking it would take from the books coin they never held).
 */
export function matchOutgoingNative(
  block: EvmBlock,
  native: AssetDefinition,
  watchSet: EvmWatchSet,
): EvmOutflow[] {
  const found: EvmOutflow[] = [];
  for (const tx of block.transactions) {
    if (tx.value === 0n) continue;
    const option = watchSet.get(addressKey(tx.from));
    if (option === undefined) continue;
    found.push({
      txid: tx.hash,
      index: NATIVE_OUTPUT_INDEX,
      amount: tx.value,
      asset: native,
      from: tx.from,
      // A contract creation has no recipient: the value went to the new contract.
      to: tx.to ?? '',
      option,
    });
  }
  return found;
}
