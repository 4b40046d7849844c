import type { AssetDefinition } from '../../core/registry.ts';
import { type EvmLog, TRANSFER_TOPIC } from './evm-node.ts';
import { addressKey } from './watch-set.ts';

export interface DecodedTransfer {
  asset: AssetDefinition;
  amount: bigint;
  /** Lower-case hex without 0x: the watch set's key. */
  fromKey: string;
  toKey: string;
}

/**
 * An ERC-20 Transfer log of an allow-listed contract, or null. The contract must be on this
 * network's allow-list (the symbol a token reports is never asked); the log must have exactly the
 * ERC-20 shape (three topics, a 32-byte amount: ERC-721 transfers have four topics) and move a
 * non-zero amount (zero-value transfers are the address-poisoning spam pattern and move nothing).
 * Used for money arriving at invoice addresses (detect.ts) and leaving them (detect-outgoing.ts).
 */
export function decodeTransferLog(
  log: EvmLog,
  tokens: ReadonlyMap<string, AssetDefinition>,
): DecodedTransfer | null {
  if (log.topics.length !== 3 || log.topics[0] !== TRANSFER_TOPIC || log.data.length !== 66) return null;
  const asset = tokens.get(log.address.toLowerCase());
  if (asset === undefined) return null;
  const amount = BigInt(log.data);
  if (amount === 0n) return null;
  return {
    asset,
    amount,
    fromKey: addressKey(log.topics[1] as string),
    toKey: addressKey(log.topics[2] as string),
  };
}
