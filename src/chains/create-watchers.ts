import type { Tally } from '../context.ts';
import { getNetwork } from '../core/registry.ts';
import { BitcoinNode } from './bitcoin/bitcoin-node.ts';
import { BitcoinWatcher } from './bitcoin/bitcoin-watcher.ts';
import { BitcoinRpc } from './bitcoin/rpc-client.ts';
import { type ChainWatcher, ChainWatchers } from './chain-status.ts';
import { EvmNode } from './evm/evm-node.ts';
import { EvmWatcher } from './evm/evm-watcher.ts';
import { EvmRpc } from './evm/rpc-client.ts';
import { parseEvmRpc } from './evm/rpc-config.ts';

/**
 * The watchers the configuration asks for; none when no node is configured. `extraEvm` adds EVM
 * networks not in the configuration (dev mode's local devnet).
 */
export function createChainWatchers(
  tally: Tally,
  extraEvm: ReadonlyMap<string, string[]> = new Map(),
): ChainWatchers {
  const { config } = tally;
  const watchers: ChainWatcher[] = [];
  const evm = new Map([...parseEvmRpc(config.evmRpc).networks, ...extraEvm]);
  for (const [network, urls] of evm) {
    watchers.push(
      new EvmWatcher(tally, {
        network,
        node: new EvmNode(new EvmRpc({ urls }), getNetwork(network), config.evmMaxLogRange),
        pollIntervalMs: config.evmPollMs,
      }),
    );
  }
  if (config.bitcoinRpcUrl !== '') {
    const rpc = new BitcoinRpc({
      url: config.bitcoinRpcUrl,
      user: config.bitcoinRpcUser,
      password: config.bitcoinRpcPassword,
    });
    watchers.push(
      new BitcoinWatcher(tally, {
        network: config.bitcoinNetwork,
        node: new BitcoinNode(rpc, config.bitcoinNetwork),
        pollIntervalMs: config.bitcoinPollMs,
        droppedAfterMs: config.bitcoinDroppedAfterSeconds * 1000,
        ...(config.bitcoinStartHeight >= 0 ? { startHeight: config.bitcoinStartHeight } : {}),
      }),
    );
  }
  return new ChainWatchers(watchers);
}
