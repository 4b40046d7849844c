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
  /** Options created within this margin of the last refresh are read again: a slow commit is not missed. */
  private static readonly REFRESH_OVERLAP_MS = 10 * 60_000;
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

  /** Loads options created since the last refresh (all of them the first time). */
  async refresh(db: Kysely<Schema>): Promise<number> {
    const started = Date.now();
    let query = db
      .selectFrom('payment_options')
      .select(['id', 'address'])
      .where('network', '=', this.network);
    if (this.refreshedAt > 0) {
      query = query.where('id', '>=', idFloor('opt', this.refreshedAt - WatchSet.REFRESH_OVERLAP_MS));
    }
    const rows = await query.execute();
    for (const row of rows) this.add(row.address, row.id);
    this.refreshedAt = started;
    return rows.length;
  }
}
