import type { Kysely } from 'kysely';
import { idFloor } from '../../core/ids.ts';
import { listNetworks } from '../../core/registry.ts';
import type { Schema } from '../../db/schema.ts';

export interface WatchedOption {
  optionId: string;
  /** What the option asks for: its network and asset. */
  network: string;
  asset: string;
}

/** The lookup key of an address: its 40 hex digits in lower case (checksums are letter case only). */
export const addressKey = (address: string) => address.slice(-40).toLowerCase();

/**
 * Every address ever assigned to a payment option on ANY EVM network. One EVM wallet serves every
 * EVM network (the same index is the same address everywhere), so money for an invoice can arrive
 * on a chain or in a token the invoice never asked for; each network's watcher therefore watches
 * all EVM options and reports such arrivals as wrong-network or wrong-asset, never ignores them.
 * The allocator never hands an address out twice, so an address belongs to exactly one option.
 */
export class EvmWatchSet {
  private readonly byAddress = new Map<string, WatchedOption>();
  private static readonly REFRESH_OVERLAP_MS = 10 * 60_000;
  private refreshedAt = 0;
  private static readonly EVM_NETWORKS = listNetworks()
    .filter((n) => n.family === 'evm')
    .map((n) => n.id);

  get size(): number {
    return this.byAddress.size;
  }

  add(address: string, option: WatchedOption): void {
    this.byAddress.set(addressKey(address), option);
  }

  /** The option an address (as a 40-hex-digit lower-case key) belongs to, if watched. */
  get(key: string): WatchedOption | undefined {
    return this.byAddress.get(key);
  }

  /** Loads options created since the last refresh (all of them the first time). */
  async refresh(db: Kysely<Schema>): Promise<number> {
    const started = Date.now();
    let query = db
      .selectFrom('payment_options')
      .select(['id', 'address', 'network', 'asset'])
      .where('network', 'in', EvmWatchSet.EVM_NETWORKS)
      .where('address', '!=', '');
    if (this.refreshedAt > 0) {
      // Options created within this margin of the last refresh are read again: a slow commit is not missed.
      query = query.where('id', '>=', idFloor('opt', this.refreshedAt - EvmWatchSet.REFRESH_OVERLAP_MS));
    }
    const rows = await query.execute();
    for (const row of rows) {
      this.add(row.address, { optionId: row.id, network: row.network, asset: row.asset });
    }
    this.refreshedAt = started;
    return rows.length;
  }
}
