import type { Tally } from '../context.ts';
import { BitcoinNode } from './bitcoin/bitcoin-node.ts';
import { BitcoinWatcher } from './bitcoin/bitcoin-watcher.ts';
import { BitcoinRpc } from './bitcoin/rpc-client.ts';
import { type ChainWatcher, ChainWatchers } from './chain-status.ts';

/** The watchers the configuration asks for; none when no node is configured. */
export function createChainWatchers(tally: Tally): ChainWatchers {
  const { config } = tally;
  const watchers: ChainWatcher[] = [];
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
