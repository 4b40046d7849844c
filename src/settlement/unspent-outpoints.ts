import type { Kysely } from 'kysely';
import type { Schema } from '../db/schema.ts';
import '../db/schema-money.ts';

/**
 * "txid:vout" of every payment on a network not yet spent by a recorded movement: loaded once when
 * a watcher starts, then kept current in memory (new payments added, spent ones dropped).
 */
export async function unspentPaymentOutpoints(db: Kysely<Schema>, network: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('payments')
    .select(['txid', 'output_index'])
    .where('network', '=', network)
    .where('removed', '=', 0)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('settlement_movement_inputs as mi')
            .innerJoin('settlement_movements as m', 'm.id', 'mi.movement_id')
            .select('mi.payment_id')
            .whereRef('mi.payment_id', '=', 'payments.id')
            // A movement reversed by a reorg spent nothing (yet).
            .where('m.removed', '=', 0),
        ),
      ),
    )
    .execute();
  return new Set(rows.map((r) => `${r.txid}:${r.output_index}`));
}
