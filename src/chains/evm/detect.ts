import type { AssetDefinition } from '../../core/registry.ts';
import type { EvmBlock, EvmLog } from './evm-node.ts';
import { decodeTransferLog } from './transfer-log.ts';
import { addressKey, type EvmWatchSet, type WatchedOption } from './watch-set.ts';

/**
 * A native coin transfer has no log index; it is stored with this fixed output index, which no log
 * can have, so a transaction that both sends ether and emits a token Transfer to the same address
 * yields two distinct payments.
 */
export const NATIVE_OUTPUT_INDEX = -1;

export interface EvmTransfer {
  txid: string;
  /** The log index, or NATIVE_OUTPUT_INDEX for the transaction's own value. */
  index: number;
  amount: bigint;
  /** What arrived: the allow-listed asset of this network the transfer moved. */
  asset: AssetDefinition;
  from: string;
  to: string;
  blockNumber: number;
  blockHash: string;
  option: WatchedOption;
  /** Null when network and asset are what the option asks for. */
  misdirection: 'wrong_network' | 'wrong_asset' | null;
}

function classify(
  option: WatchedOption,
  network: string,
  asset: AssetDefinition,
): EvmTransfer['misdirection'] {
  if (option.network !== network) return 'wrong_network';
  return option.asset === asset.code ? null : 'wrong_asset';
}

/**
 * Token transfers to watched addresses among Transfer logs (which logs count: decodeTransferLog).
 * Pure: the hot loop measured by `npm run bench -- evm`.
 */
export function matchTransferLogs(
  network: string,
  logs: readonly EvmLog[],
  tokens: ReadonlyMap<string, AssetDefinition>,
  watchSet: EvmWatchSet,
): EvmTransfer[] {
  const found: EvmTransfer[] = [];
  for (const log of logs) {
    const transfer = decodeTransferLog(log, tokens);
    if (transfer === null) continue;
    const option = watchSet.get(transfer.toKey);
    if (option === undefined) continue;
    found.push({
      txid: log.transactionHash,
      index: log.logIndex,
      amount: transfer.amount,
      asset: transfer.asset,
      from: `0x${transfer.fromKey}`,
      to: `0x${transfer.toKey}`,
      blockNumber: log.blockNumber,
      blockHash: log.blockHash,
      option,
      misdirection: classify(option, network, transfer.asset),
    });
  }
  return found;
}

/**
 * Native coin transfers to watched addresses: transactions of a block whose recipient is watched and
 * whose value is non-zero. Their success is checked by the caller (a reverted transaction moves no
 * value). Ether sent by a contract's internal call has no transaction of its own and needs tracing,
 * which Tally does not do (README: limitations).
 */
export function matchNativeTransfers(
  network: string,
  block: EvmBlock,
  native: AssetDefinition,
  watchSet: EvmWatchSet,
): EvmTransfer[] {
  const found: EvmTransfer[] = [];
  for (const tx of block.transactions) {
    if (tx.to === null || tx.value === 0n) continue;
    const option = watchSet.get(addressKey(tx.to));
    if (option === undefined) continue;
    found.push({
      txid: tx.hash,
      index: NATIVE_OUTPUT_INDEX,
      amount: tx.value,
      asset: native,
      from: tx.from,
      to: tx.to,
      blockNumber: block.number,
      blockHash: block.hash,
      option,
      misdirection: classify(option, network, native),
    });
  }
  return found;
}
