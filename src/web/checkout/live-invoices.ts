import type { Tally } from '../../context.ts';

type Listener = (version: number) => void;

/**
 * Live updates for open checkout pages (docs/decisions/0009). Whatever process applies a payment
 * (this one's watcher, another gateway process on PostgreSQL, the CLI), the invoice row's
 * `version` goes up. One timer per process reads the versions of every invoice someone is
 * watching, in one query per 500 ids, and wakes only those whose version moved; idle, it costs
 * nothing. A 500 ms tick keeps "paid" on screen within about a second of the commit.
 */
export class LiveInvoices {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly versions = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;

  constructor(
    private readonly tally: Tally,
    private readonly intervalMs = 500,
  ) {}

  subscribe(invoiceId: string, version: number, listener: Listener): () => void {
    let set = this.listeners.get(invoiceId);
    if (!set) {
      set = new Set();
      this.listeners.set(invoiceId, set);
      this.versions.set(invoiceId, version);
    }
    set.add(listener);
    this.timer ??= setInterval(() => void this.tick(), this.intervalMs);
    return () => {
      set.delete(listener);
      if (set.size === 0) {
        this.listeners.delete(invoiceId);
        this.versions.delete(invoiceId);
      }
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  get watching(): number {
    return this.listeners.size;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.listeners.clear();
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const ids = [...this.listeners.keys()];
      for (let i = 0; i < ids.length; i += 500) {
        const rows = await this.tally.database.read
          .selectFrom('invoices')
          .select(['id', 'version'])
          .where('id', 'in', ids.slice(i, i + 500))
          .execute();
        for (const row of rows) {
          if (row.version === this.versions.get(row.id)) continue;
          this.versions.set(row.id, row.version);
          for (const listener of this.listeners.get(row.id) ?? []) listener(row.version);
        }
      }
    } catch (error) {
      // A failed read is retried on the next tick; pages keep their last state meanwhile.
      this.tally.log.warn({ err: error }, 'live invoice check failed');
    } finally {
      this.ticking = false;
    }
  }
}
