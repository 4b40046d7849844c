import type { Tally } from '../context.ts';
import type { ChainStatus, ChainWatcher } from './chain-status.ts';

/**
 * What every chain watcher shares: the timer loop, stop, the status it reports and the
 * caught-up check expiry asks. A subclass implements one poll; a failed poll is recorded in the
 * status and rethrown, and since each block is written in one transaction with the cursor,
 * nothing half-applied remains.
 */
export abstract class PollingWatcher implements ChainWatcher {
  protected readonly state: ChainStatus;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    protected readonly tally: Tally,
    readonly network: string,
    private readonly pollIntervalMs: number,
  ) {
    this.state = {
      network,
      nodeHeight: null,
      cursorHeight: null,
      syncing: false,
      caughtUp: false,
      lastSyncedAt: null,
      lastError: null,
      watchedAddresses: 0,
    };
  }

  /** One poll; `startedAt` becomes `lastSyncedAt` if it ends caught up with the node. */
  protected abstract poll(startedAt: Date): Promise<void>;
  protected abstract watchedAddresses(): number;

  status(): ChainStatus {
    return { ...this.state, watchedAddresses: this.watchedAddresses() };
  }

  /** True once a poll that began at or after `at` finished with every block up to the node's tip. */
  caughtUpTo(at: Date): boolean {
    return this.state.lastSyncedAt !== null && this.state.lastSyncedAt.getTime() >= at.getTime();
  }

  start(): void {
    this.stopped = false;
    const loop = async () => {
      this.running = this.pollOnce().then(
        () => undefined,
        () => undefined,
      );
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, this.pollIntervalMs);
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  async pollOnce(): Promise<void> {
    const startedAt = this.tally.clock.now();
    try {
      await this.poll(startedAt);
      this.state.lastError = null;
    } catch (error) {
      this.state.caughtUp = false;
      this.state.lastError = error instanceof Error ? error.message : String(error);
      this.tally.log.warn({ network: this.network, err: this.state.lastError }, 'chain watcher poll failed');
      throw error;
    }
  }
}
