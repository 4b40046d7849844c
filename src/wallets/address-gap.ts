import { type Kysely, sql, type Transaction } from 'kysely';
import type { Tally } from '../context.ts';
import type { Schema } from '../db/schema.ts';
import { iso, toDate } from '../db/values.ts';
import { insertEvent } from '../invoices/invoice-store.ts';

type Db = Kysely<Schema> | Transaction<Schema>;

/**
 * The gap limit of standard Bitcoin wallets (BIP44/BIP84/BIP86 account discovery): software
 * restoring or scanning an account stops after this many consecutive unused receive addresses, so
 * money sent to an address beyond it does not show in the merchant's own wallet (it is not lost:
 * raising the wallet's gap limit, or `tally wallet rescan`, finds it).
 */
export const BIP44_GAP_LIMIT = 20;

/**
 * Warn at 16, before the gap reaches 20: every new invoice can widen the gap by one, so the
 * merchant still has a few invoices' headroom to raise their wallet's gap limit (or to let some
 * invoices be paid) before an address their software never scans is handed out.
 */
export const GAP_WARNING_THRESHOLD = 16;

/*
 * When the gap is checked: after allocation, not periodically. Only handing out an address widens
 * the gap (a payment narrows it; a payment removed by a reorg widens it back, and is caught at the
 * next allocation), so the allocator re-arms a per-wallet `wallet.gap_check` job in the allocating
 * transaction (armGapCheck in allocator.ts). A periodic job per wallet would wake every wallet of
 * every merchant forever to find nothing new. The cost on the invoice path is one upsert per batch
 * and wallet, and none while the wallet's highest index is below the threshold. On PostgreSQL the
 * upsert holds the job row's lock until commit, so invoice batches of one wallet from several
 * processes queue on it briefly (a single process writes one batch at a time anyway).
 */

export interface AddressGap {
  /** Allocated indexes after the last paid one: highest allocated − last paid, or highest allocated + 1 when none is paid. */
  unpaid_since_last_paid: number;
  /** Highest derivation index whose payment option has a payment that was not removed (reorg, RBF). */
  last_paid_index: number | null;
  /** Highest derivation index handed out to a payment option. */
  highest_allocated_index: number | null;
  limit: number;
  warning_threshold: number;
  /** unpaid_since_last_paid ≥ warning_threshold. */
  warning: boolean;
  /** When wallet.gap_warning was emitted for the current crossing (null when not warned). */
  warned_at: string | null;
}

/** The gap from the two indexes; pure, so the definition is tested on its own. */
export function gapSize(highestAllocated: number | null, lastPaid: number | null): number {
  if (highestAllocated === null) return 0;
  if (lastPaid === null) return highestAllocated + 1;
  return Math.max(0, highestAllocated - lastPaid);
}

export function gapJson(
  highestAllocated: number | null,
  lastPaid: number | null,
  warnedAt: string | Date | null,
): AddressGap {
  const size = gapSize(highestAllocated, lastPaid);
  return {
    unpaid_since_last_paid: size,
    last_paid_index: lastPaid,
    highest_allocated_index: highestAllocated,
    limit: BIP44_GAP_LIMIT,
    warning_threshold: GAP_WARNING_THRESHOLD,
    warning: size >= GAP_WARNING_THRESHOLD,
    warned_at: warnedAt === null ? null : toDate(warnedAt).toISOString(),
  };
}

const intOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Highest allocated and highest paid derivation index of each wallet (one query for all of them).
 * Each is the first match walking the wallet's primary key (wallet_id, derivation_index)
 * downwards, not a max() over every address: the walk passes the free pool, or the unpaid gap.
 * A payment counts unless it was removed (replaced, double-spent, reorged out): an address whose
 * only payment vanished is as unused as one never paid.
 */
export async function walletGapIndexes(
  db: Db,
  walletIds: readonly string[],
): Promise<Map<string, { highestAllocated: number | null; lastPaid: number | null }>> {
  const out = new Map<string, { highestAllocated: number | null; lastPaid: number | null }>();
  if (walletIds.length === 0) return out;
  const rows = await db
    .selectFrom('wallets as w')
    .select((eb) => [
      'w.id',
      eb
        .selectFrom('wallet_addresses as wa')
        .select('wa.derivation_index')
        .whereRef('wa.wallet_id', '=', 'w.id')
        .where('wa.option_id', 'is not', null)
        .orderBy('wa.derivation_index', 'desc')
        .limit(1)
        .as('highest_allocated'),
      eb
        .selectFrom('wallet_addresses as wa')
        .select('wa.derivation_index')
        .whereRef('wa.wallet_id', '=', 'w.id')
        .where('wa.option_id', 'is not', null)
        .where(({ exists, selectFrom }) =>
          exists(
            selectFrom('payments as p')
              .select(sql`1`.as('one'))
              .whereRef('p.option_id', '=', 'wa.option_id')
              .where('p.removed', '=', 0),
          ),
        )
        .orderBy('wa.derivation_index', 'desc')
        .limit(1)
        .as('last_paid'),
    ])
    .where('w.id', 'in', walletIds)
    .execute();
  for (const row of rows) {
    out.set(row.id, {
      highestAllocated: intOrNull(row.highest_allocated),
      lastPaid: intOrNull(row.last_paid),
    });
  }
  return out;
}

/** The gap of every Bitcoin wallet, for the metrics scrape. */
export async function bitcoinWalletGaps(db: Db): Promise<Array<{ walletId: string; gap: number }>> {
  const wallets = await db.selectFrom('wallets').select('id').where('family', '=', 'bitcoin').execute();
  const indexes = await walletGapIndexes(
    db,
    wallets.map((w) => w.id),
  );
  return wallets.map((w) => {
    const i = indexes.get(w.id);
    return { walletId: w.id, gap: gapSize(i?.highestAllocated ?? null, i?.lastPaid ?? null) };
  });
}

export type GapCheckOutcome = 'warned' | 'cleared' | 'unchanged';

/**
 * Compares one wallet's gap with the warning threshold: on crossing it, emits `wallet.gap_warning`
 * (an outbox event without an invoice) and stamps `gap_warned_at`, in one transaction; once the
 * gap is back below, clears the stamp so the next crossing warns again. The stamp is set with a
 * conditional update, so two checkers racing emit one event.
 */
export async function checkWalletGap(tally: Tally, walletId: string): Promise<GapCheckOutcome> {
  const now = tally.clock.now();
  return tally.database.write(async (trx) => {
    const wallet = await trx
      .selectFrom('wallets')
      .select(['id', 'merchant_id', 'family', 'scope', 'label', 'gap_warned_at'])
      .where('id', '=', walletId)
      .executeTakeFirst();
    if (wallet?.family !== 'bitcoin') return 'unchanged';
    const i = (await walletGapIndexes(trx, [walletId])).get(walletId);
    const gap = gapJson(i?.highestAllocated ?? null, i?.lastPaid ?? null, null);
    if (gap.warning && wallet.gap_warned_at === null) {
      const stamped = await trx
        .updateTable('wallets')
        .set({ gap_warned_at: iso(now) })
        .where('id', '=', walletId)
        .where('gap_warned_at', 'is', null)
        .executeTakeFirst();
      if (Number(stamped.numUpdatedRows) !== 1) return 'unchanged';
      await insertEvent(
        trx,
        wallet.merchant_id,
        null,
        'wallet.gap_warning',
        0,
        {
          wallet: { id: wallet.id, scope: wallet.scope, label: wallet.label },
          gap: { ...gap, warned_at: now.toISOString() },
          message: `${gap.unpaid_since_last_paid} unpaid addresses follow the last paid one; wallets that stop scanning after ${BIP44_GAP_LIMIT} unused addresses will not show payments beyond that. Raise the gap limit in your wallet software.`,
        },
        now,
      );
      return 'warned';
    }
    if (!gap.warning && wallet.gap_warned_at !== null) {
      await trx.updateTable('wallets').set({ gap_warned_at: null }).where('id', '=', walletId).execute();
      return 'cleared';
    }
    return 'unchanged';
  });
}
