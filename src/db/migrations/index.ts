import type { Kysely } from 'kysely';
import * as m0001 from './0001_initial.ts';
import * as m0002 from './0002_free_address_index.ts';
import * as m0003 from './0003_wallet_key_fingerprint.ts';
import * as m0004 from './0004_chain_watch.ts';
import * as m0005 from './0005_wallet_gap.ts';
import * as m0006 from './0006_webhooks.ts';
import * as m0008 from './0008_dashboard.ts';
import * as m0009 from './0009_money.ts';
import * as m0011 from './0011_movement_reversal.ts';
import * as m0012 from './0012_wallet_key_origin.ts';
import * as m0013 from './0013_evm_pending_outflows.ts';
import * as m0014 from './0014_drop_events_merchant_index.ts';
import * as m0015 from './0015_invoice_clock.ts';
import * as m0016 from './0016_events_position_partial.ts';
import * as m0017 from './0017_address_lookup_on_pool.ts';
import * as m0018 from './0018_one_free_address_index.ts';
import * as m0019 from './0019_invoices_by_customer.ts';
import * as m0020 from './0020_key_fingerprint_of_key_material.ts';
import type { ColumnTypes } from './column-types.ts';

export interface ForwardMigration {
  up(db: Kysely<unknown>, types: ColumnTypes): Promise<void>;
}

/** In order. Forward-only: a deployed migration is never edited, only followed by a new one. */
export const MIGRATIONS: Record<string, ForwardMigration> = {
  '0001_initial': m0001,
  '0002_free_address_index': m0002,
  '0003_wallet_key_fingerprint': m0003,
  '0004_chain_watch': m0004,
  '0005_wallet_gap': m0005,
  '0006_webhooks': m0006,
  '0008_dashboard': m0008,
  '0009_money': m0009,
  '0011_movement_reversal': m0011,
  '0012_wallet_key_origin': m0012,
  '0013_evm_pending_outflows': m0013,
  '0014_drop_events_merchant_index': m0014,
  '0015_invoice_clock': m0015,
  '0016_events_position_partial': m0016,
  '0017_address_lookup_on_pool': m0017,
  '0018_one_free_address_index': m0018,
  '0019_invoices_by_customer': m0019,
  '0020_key_fingerprint_of_key_material': m0020,
};
