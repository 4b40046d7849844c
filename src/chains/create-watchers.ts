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

/** Nodes not in the configuration: dev mode's local devnet. */
export interface ExtraNodes {
  evm?: ReadonlyMap<string, string[]>;
  bitcoin?: { network: string; rpcUrl: string; user: string; password: string } | null;
}

/** The watchers the configuration (and the devnet) asks for; none when no node is configured. */
export function createChainWatchers(tally: Tally, extra: ExtraNodes = {}): ChainWatchers {
  const { config } = tally;
  const watchers: ChainWatcher[] = [];
  const evm = new Map([...parseEvmRpc(config.evmRpc).networks, ...(extra.evm ?? [])]);
  for (const [network, urls] of evm) {
    watchers.push(
      new EvmWatcher(tally, {
        network,
        node: new EvmNode(new EvmRpc({ urls }), getNetwork(network), config.evmMaxLogRange),
        pollIntervalMs: config.evmPollMs,
      }),
    );
  }
  if (extra.bitcoin) {
    const { network, rpcUrl, user, password } = extra.bitcoin;
    watchers.push(
      new BitcoinWatcher(tally, {
        network,
        node: new BitcoinNode(new BitcoinRpc({ url: rpcUrl, user, password }), network),
        pollIntervalMs: config.bitcoinPollMs,
        droppedAfterMs: config.bitcoinDroppedAfterSeconds * 1000,
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
