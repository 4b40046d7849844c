import type { Kysely, Transaction } from 'kysely';
import { unitsFromDb } from '../core/money.ts';
import { currencyDecimals, findAsset } from '../core/registry.ts';
import type { Schema } from '../db/schema.ts';
import '../db/schema-money.ts';
import { formatAmount } from '../core/money.ts';
import { fiatUnits } from './fiat.ts';

/** One payment a movement drew on, with the locked rate of the option it paid. */
export interface FiatSource {
  /** Base units of the payment the movement drew on (its weight). */
  amount: bigint;
  asset: string;
  decimals: number;
  /** The option's locked rate; null when the payment was in another asset than its option's. */
  rate: string | null;
  currency: string;
}

/**
 * The fiat value of an amount of a movement (its fee, what it swept, …) at the locked rates of the
 * invoices whose money it moved, in their price currency's minor units. A movement carries no rate
 * of its own — the day's rate is locked nowhere — so, like every other entry, it is valued at the
 * rate each invoice's customer paid at: the amount is split over the payments it drew on in
 * proportion to their amounts (the last one takes the rounding remainder, so the parts sum to the
 * amount exactly), each part converted at its option's rate, rounded half away from zero, summed.
 * Null when nothing links it to a rate, a rate is missing, or the invoices are priced in several
 * currencies (no one number would be right).
 */
export function movementFiatUnits(
  amount: bigint,
  sources: readonly FiatSource[],
): { currency: string; units: bigint } | null {
  const first = sources[0];
  if (!first || sources.some((s) => s.currency !== first.currency)) return null;
  const total = sources.reduce((sum, s) => sum + s.amount, 0n);
  if (total <= 0n) return null;
  let left = amount;
  let units = 0n;
  for (const [i, s] of sources.entries()) {
    const part = i === sources.length - 1 ? left : (amount * s.amount) / total;
    left -= part;
    const value = fiatUnits(part, { code: s.asset, decimals: s.decimals, rate: s.rate }, s.currency);
    if (value === null) return null;
    units += value;
  }
  return { currency: first.currency, units };
}

/** The same, as the decimal string ledger entries and the report carry (null when unknown). */
export function movementFiatValue(
  amount: bigint,
  sources: readonly FiatSource[],
): { currency: string; value: string } | null {
  const fiat = movementFiatUnits(amount, sources);
  const places = fiat ? currencyDecimals(fiat.currency) : undefined;
  return fiat && places !== undefined
    ? { currency: fiat.currency, value: formatAmount(fiat.units, places) }
    : null;
}

/** Lookups go in chunks: SQLite allows at most 32,766 bound parameters per statement. */
const CHUNK = 1_000;

/**
 * The locked rates behind the payments a movement drew on (its inputs), one source per input in
 * payment id order. A payment in another asset than its option's (misdirected money) has no
 * locked rate for that asset.
 */
export async function fiatSources(
  db: Kysely<Schema> | Transaction<Schema>,
  inputs: ReadonlyArray<{ paymentId: string; amount: string }>,
): Promise<FiatSource[]> {
  // In payment id order, as the report reads them back, so both round the same way.
  const ordered = [...inputs].sort((a, b) =>
    a.paymentId < b.paymentId ? -1 : a.paymentId > b.paymentId ? 1 : 0,
  );
  return (await alignedSources(db, ordered)).filter((s): s is FiatSource => s !== null);
}

async function alignedSources(
  db: Kysely<Schema> | Transaction<Schema>,
  inputs: ReadonlyArray<{ paymentId: string; amount: string }>,
): Promise<Array<FiatSource | null>> {
  const ids = [...new Set(inputs.map((i) => i.paymentId))];
  const byId = new Map<string, { asset: string; network: string; rate: string | null; currency: string }>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db
      .selectFrom('payments as p')
      .innerJoin('payment_options as o', 'o.id', 'p.option_id')
      .innerJoin('invoices as i', 'i.id', 'p.invoice_id')
      .select(['p.id', 'p.asset', 'p.network', 'o.asset as option_asset', 'o.network as option_network'])
      .select(['o.rate_value', 'i.price_currency'])
      .where('p.id', 'in', ids.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) {
      const priced = r.asset === r.option_asset && r.network === r.option_network;
      byId.set(r.id, {
        asset: r.asset,
        network: r.network,
        rate: priced ? r.rate_value : null,
        currency: r.price_currency,
      });
    }
  }
  return inputs.map((input) => {
    const r = byId.get(input.paymentId);
    return r
      ? {
          amount: unitsFromDb(input.amount),
          asset: r.asset,
          decimals: findAsset(r.asset, r.network)?.decimals ?? 0,
          rate: r.rate,
          currency: r.currency,
        }
      : null;
  });
}

/** `fiatSources` for many movements at once (the report's movement rows), by movement id. */
export async function fiatSourcesByMovement(
  db: Kysely<Schema>,
  movementIds: readonly string[],
): Promise<Map<string, FiatSource[]>> {
  const out = new Map<string, FiatSource[]>();
  for (let i = 0; i < movementIds.length; i += CHUNK) {
    const inputs = await db
      .selectFrom('settlement_movement_inputs')
      .select(['movement_id', 'payment_id', 'amount'])
      .where('movement_id', 'in', movementIds.slice(i, i + CHUNK))
      .execute();
    inputs.sort((a, b) => (a.payment_id < b.payment_id ? -1 : a.payment_id > b.payment_id ? 1 : 0));
    const sources = await alignedSources(
      db,
      inputs.map((r) => ({ paymentId: r.payment_id, amount: r.amount })),
    );
    for (const [k, input] of inputs.entries()) {
      const source = sources[k];
      if (!source) continue;
      const list = out.get(input.movement_id) ?? [];
      list.push(source);
      out.set(input.movement_id, list);
    }
  }
  return out;
}
