import type { AssetDefinition } from '../../core/registry.ts';
import { type EvmBlock, type EvmLog, TRANSFER_TOPIC } from './evm-node.ts';
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
 * Token transfers to watched addresses among Transfer logs. Pure: the hot loop measured by
 * `npm run bench -- evm`. A log credits only if its contract is on this network's allow-list (the
 * symbol a token reports is never asked), it has exactly the ERC-20 shape (three topics, a 32-byte
 * amount: ERC-721 transfers have four topics) and moves a non-zero amount (zero-value transfers
 * are the address-poisoning spam pattern and move nothing).
 */
export function matchTransferLogs(
  network: string,
  logs: readonly EvmLog[],
  tokens: ReadonlyMap<string, AssetDefinition>,
  watchSet: EvmWatchSet,
): EvmTransfer[] {
  const found: EvmTransfer[] = [];
  for (const log of logs) {
    if (log.topics.length !== 3 || log.topics[0] !== TRANSFER_TOPIC || log.data.length !== 66) continue;
    const option = watchSet.get(addressKey(log.topics[2] as string));
    if (option === undefined) continue;
    const asset = tokens.get(log.address.toLowerCase());
    if (asset === undefined) continue;
    const amount = BigInt(log.data);
    if (amount === 0n) continue;
    found.push({
      txid: log.transactionHash,
      index: log.logIndex,
      amount,
      asset,
      from: `0x${addressKey(log.topics[1] as string)}`,
      to: `0x${addressKey(log.topics[2] as string)}`,
      blockNumber: log.blockNumber,
      blockHash: log.blockHash,
      option,
      misdirection: classify(option, network, asset),
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
