import type { Kysely } from 'kysely';
import { Gauge, type Registry } from 'prom-client';
import type { Schema } from '../db/schema.ts';
import { bitcoinWalletGaps } from '../wallets/address-gap.ts';

/**
 * `tally_wallet_address_gap{wallet_id}`: each Bitcoin wallet's unpaid addresses after its last
 * paid one, read from the database at scrape time (one query for all wallets), so every gateway
 * process reports the same figure. Alert well before 20, the gap limit of standard wallets.
 */
export function registerWalletMetrics(registry: Registry, db: () => Kysely<Schema>): void {
  new Gauge({
    name: 'tally_wallet_address_gap',
    help: 'Allocated but unpaid Bitcoin addresses after the last paid one, per wallet (standard wallets stop scanning after 20)',
    labelNames: ['wallet_id'] as const,
    registers: [registry],
    async collect() {
      const gaps = await bitcoinWalletGaps(db());
      this.reset();
      for (const { walletId, gap } of gaps) this.set({ wallet_id: walletId }, gap);
    },
  });
}
