import type { Kysely } from 'kysely';
import { idFloor } from '../../core/ids.ts';
import type { Schema } from '../../db/schema.ts';
import { scriptForAddress } from './address-script.ts';

/**
 * Every address ever assigned to a payment option of one network, keyed by the script it pays to.
 * Addresses stay watched after expiry and after the monitoring window: a late deposit is recorded
 * as an exception, never ignored. The allocator never hands an address out twice, so a script
 * belongs to exactly one option.
 */
export class WatchSet {
  private readonly options = new Map<string, string>();
  /**
   * Options created within this margin before the last refresh are read again: an id is taken
   * before its transaction commits, so a slow commit may show up after a later refresh began.
   */
  private static readonly REFRESH_OVERLAP_MS = 60_000;
  /** Ids read inside the overlap, so re-reading them skips the address decoding (the costly part). */
  private readonly recent = new Map<string, number>();
  private refreshedAt = 0;

  constructor(readonly network: string) {}

  get size(): number {
    return this.options.size;
  }

  add(address: string, optionId: string): void {
    this.options.set(scriptForAddress(address, this.network), optionId);
  }

  /** The payment option an output script pays, if watched. */
  optionFor(script: string): string | undefined {
    return this.options.get(script);
  }

  /**
   * Loads options created since the last refresh (all of them the first time). Called before
   * every block and every mempool read, so it must stay cheap: one indexed range query, and only
   * ids not seen yet are decoded.
   */
  async refresh(db: Kysely<Schema>): Promise<number> {
    const started = Date.now();
    let query = db
      .selectFrom('payment_options')
      .select(['id', 'address'])
      .where('network', '=', this.network);
    const first = this.refreshedAt === 0;
    if (!first)
      query = query.where('id', '>=', idFloor('opt', this.refreshedAt - WatchSet.REFRESH_OVERLAP_MS));
    const rows = await query.execute();
    let added = 0;
    for (const row of rows) {
      if (!first && this.recent.has(row.id)) continue;
      this.add(row.address, row.id);
      added += 1;
      if (!first) this.recent.set(row.id, started);
    }
    for (const [id, at] of this.recent)
      if (at < started - 2 * WatchSet.REFRESH_OVERLAP_MS) this.recent.delete(id);
    this.refreshedAt = started;
    return added;
  }
}
