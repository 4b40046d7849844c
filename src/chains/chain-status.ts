import type { ChainHealth } from '../context.ts';

/** What a chain watcher reports about itself, for /readyz, metrics and expiry. */
export interface ChainStatus {
  network: string;
  nodeHeight: number | null;
  cursorHeight: number | null;
  syncing: boolean;
  caughtUp: boolean;
  /** Start time of the last poll that ended with every block up to the node's tip processed. */
  lastSyncedAt: Date | null;
  lastError: string | null;
  watchedAddresses: number;
}

export interface ChainWatcher {
  readonly network: string;
  status(): ChainStatus;
  caughtUpTo(at: Date): boolean;
  start(): void;
  stop(): Promise<void>;
}

/**
 * The running watchers, as the rest of Tally sees them. Networks without a watcher answer "caught
 * up": nobody could report a payment there, so waiting would only keep invoices open forever.
 */
export class ChainWatchers implements ChainHealth {
  constructor(readonly watchers: ChainWatcher[]) {}

  caughtUpTo(network: string, at: Date): boolean {
    const watcher = this.watchers.find((w) => w.network === network);
    return watcher ? watcher.caughtUpTo(at) : true;
  }

  statuses(): ChainStatus[] {
    return this.watchers.map((w) => w.status());
  }

  start(): void {
    for (const w of this.watchers) w.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.stop()));
  }
}
