import type { Transaction } from 'kysely';
import { unitsFromDb } from '../core/money.ts';
import type { Schema } from '../db/schema.ts';
import '../db/schema-money.ts';

export interface MovementInput {
  outpoint: string;
  invoiceId: string;
  paymentId: string;
  /** The part of the payment this movement drew (Bitcoin: the whole output it spent). */
  amount: string;
}

/**
 * The payments an EVM movement drew on, and how much of each. An EVM address is an account, not a
 * set of coins, so nothing on chain says which deposit left; Tally attributes outflows first in,
 * first out: the address's payments in that asset on that network (credited or not, not removed),
 * in chain order (block, then log index; unmined last), each with what live movements have not
 * drawn from it yet, until they cover the amount that left. Each input records the amount drawn,
 * not the whole payment: a 1.0 payment swept as 0.5 and then 0.49 is two movements drawing 0.5
 * and 0.49 from it — counting it used up by the first would leave the second with no inputs
 * (no batch or transaction on the report's payment row, no fiat value) and the first with 1.0.
 * That links a sweep to the payments it swept, so the settlement report names its batch and
 * transaction on each payment row as for a Bitcoin sweep.
 */
export async function evmMovementInputs(
  trx: Transaction<Schema>,
  network: string,
  optionId: string,
  asset: string,
  outflow: bigint,
): Promise<MovementInput[]> {
  const payments = await trx
    .selectFrom('payments')
    .select(['id', 'invoice_id', 'txid', 'output_index', 'amount', 'block_height', 'seen_at'])
    .where('option_id', '=', optionId)
    .where('network', '=', network)
    .where('asset', '=', asset)
    .where('removed', '=', 0)
    .execute();
  if (payments.length === 0) return [];
  const drawnRows = await trx
    .selectFrom('settlement_movement_inputs as mi')
    .innerJoin('settlement_movements as m', 'm.id', 'mi.movement_id')
    .select(['mi.payment_id', 'mi.amount'])
    .where(
      'mi.payment_id',
      'in',
      payments.map((p) => p.id),
    )
    .where('m.removed', '=', 0)
    .execute();
  // Summed in bigint: SQLite would sum the text amounts as floats.
  const drawn = new Map<string, bigint>();
  for (const d of drawnRows) drawn.set(d.payment_id, (drawn.get(d.payment_id) ?? 0n) + unitsFromDb(d.amount));
  payments.sort(chainOrder);
  const out: MovementInput[] = [];
  let covered = 0n;
  for (const p of payments) {
    if (covered >= outflow) break;
    const left = unitsFromDb(p.amount) - (drawn.get(p.id) ?? 0n);
    if (left <= 0n) continue;
    const take = left < outflow - covered ? left : outflow - covered;
    covered += take;
    out.push({
      outpoint: `${p.txid}:${p.output_index}`,
      invoiceId: p.invoice_id,
      paymentId: p.id,
      amount: take.toString(),
    });
  }
  return out;
}

type Time = string | Date;
type PaymentRow = { id: string; block_height: number | null; output_index: number; seen_at: Time };
const ms = (t: Time) => new Date(t).getTime();

/** Block height (unmined last), then log index, then when seen and id for ties. */
function chainOrder(a: PaymentRow, b: PaymentRow): number {
  const ha = a.block_height ?? Number.MAX_SAFE_INTEGER;
  const hb = b.block_height ?? Number.MAX_SAFE_INTEGER;
  if (ha !== hb) return ha - hb;
  if (a.output_index !== b.output_index) return a.output_index - b.output_index;
  if (ms(a.seen_at) !== ms(b.seen_at)) return ms(a.seen_at) - ms(b.seen_at);
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
