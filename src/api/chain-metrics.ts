import { Gauge, type Registry } from 'prom-client';
import type { ChainStatus } from '../chains/chain-status.ts';

/** Node height, cursor, lag and sync state per watched network, read at scrape time. */
export function registerChainMetrics(registry: Registry, statuses: () => ChainStatus[]): void {
  const gauge = (name: string, help: string, value: (s: ChainStatus) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['network'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const status of statuses()) {
          const v = value(status);
          if (v !== null) this.set({ network: status.network }, v);
        }
      },
    });
  gauge('tally_chain_node_height', 'Best block height the node reports', (s) => s.nodeHeight);
  gauge('tally_chain_cursor_height', 'Last block the watcher processed', (s) => s.cursorHeight);
  gauge('tally_chain_lag_blocks', 'Blocks the watcher is behind the node', (s) =>
    s.nodeHeight === null || s.cursorHeight === null ? null : s.nodeHeight - s.cursorHeight,
  );
  gauge('tally_chain_syncing', '1 while the node itself is still syncing', (s) => (s.syncing ? 1 : 0));
  gauge('tally_chain_caught_up', '1 when the last poll reached the node tip without error', (s) =>
    s.caughtUp && s.lastError === null ? 1 : 0,
  );
  gauge(
    'tally_chain_watched_addresses',
    'Addresses the watcher matches outputs against',
    (s) => s.watchedAddresses,
  );
}
