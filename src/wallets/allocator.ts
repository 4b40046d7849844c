import type { Kysely, Transaction } from 'kysely';
import type { DialectName } from '../db/connect.ts';
import type { Schema } from '../db/schema.ts';
import { iso } from '../db/values.ts';
import { type NewJob, rearmJob } from '../jobs/job-store.ts';
import { GAP_WARNING_THRESHOLD } from './address-gap.ts';
import { claimFreeAddresses } from './claim-free-addresses.ts';

export interface Allocation {
  index: number;
  address: string;
  optionId: string;
}

/**
 * Hands out the lowest free pre-derived addresses of a wallet, one per option id, deriving new
 * indexes inline only when the pool runs dry. Never twice: a row's option_id is set once under a
 * row lock (SKIP LOCKED on PostgreSQL, so concurrent creations take different rows instead of
 * queueing on one counter), and inline derivation bumps the wallet's next_index atomically. A
 * rolled-back creation returns its rows to the pool, which is safe because those addresses were
 * never shown to anyone.
 */
export async function allocateAddresses(
  trx: Transaction<Schema>,
  dialect: DialectName,
  walletId: string,
  optionIds: readonly string[],
  now: Date,
  derive: (index: number) => string,
  /** Given, the gap-check job is handed here for the caller to write with its own rows. */
  deferJob?: (job: NewJob) => void,
): Promise<Allocation[]> {
  const claimed = await claimFreeAddresses(trx, dialect, walletId, optionIds, now);
  const missing = optionIds.slice(claimed.length);
  if (missing.length === 0) {
    await armGapCheck(trx, walletId, claimed, now, deferJob);
    return claimed;
  }

  if (dialect === 'postgres') {
    // The counter's row lock is held until commit, and one creation allocates from several wallets
    // in the order its options are listed: two creations listing them in opposite orders would
    // deadlock. Lock all of the merchant's wallets in one fixed order before taking any counter.
    await trx
      .selectFrom('wallets')
      .select('id')
      .where('merchant_id', '=', (eb) =>
        eb.selectFrom('wallets as owner').select('owner.merchant_id').where('owner.id', '=', walletId),
      )
      .orderBy('id')
      .forNoKeyUpdate() // the strength of the counter update itself: inserts referencing a wallet still pass
      .execute();
  }
  // The pool ran dry: have the worker refill it, so the next invoices claim pre-derived addresses.
  await rearmJob(trx, {
    kind: 'wallet.top_up',
    dedupeKey: `top_up:${walletId}`,
    payload: { walletId },
    runAt: now,
    now,
  });
  const indexes = await reserveIndexes(trx, walletId, missing.length);
  const derived = indexes.map((index, i) => ({ index, address: derive(index), optionId: missing[i] ?? '' }));
  await trx
    .insertInto('wallet_addresses')
    .values(
      derived.map((d) => ({
        wallet_id: walletId,
        derivation_index: d.index,
        address: d.address,
        option_id: d.optionId,
        allocated_at: iso(now),
      })),
    )
    .execute();
  const all = [...claimed, ...derived];
  await armGapCheck(trx, walletId, all, now, deferJob);
  return all;
}

const families = new Map<string, string>();

/**
 * Has the worker check the wallet's address gap (src/wallets/address-gap.ts) after this
 * allocation commits: one `wallet.gap_check` job per wallet, re-armed once it has run, so a burst
 * of invoices coalesces into one check. Skipped while the highest index handed out is below the
 * warning threshold − 1: the gap is at most that index + 1, so it cannot have reached the
 * threshold (this keeps a young wallet's first invoices free of the extra statement). Bitcoin
 * wallets only; a wallet's family never changes, so it is cached.
 */
async function armGapCheck(
  trx: Transaction<Schema>,
  walletId: string,
  allocations: readonly Allocation[],
  now: Date,
  deferJob: ((job: NewJob) => void) | undefined,
): Promise<void> {
  const job = await gapCheckJob(trx, walletId, allocations, now);
  if (!job) return;
  if (deferJob) deferJob(job);
  else await rearmJob(trx, job);
}

/** The gap-check job to re-arm after these allocations, or null (see armGapCheck). */
export async function gapCheckJob(
  db: Pick<Kysely<Schema>, 'selectFrom'>,
  walletId: string,
  allocations: readonly Pick<Allocation, 'index'>[],
  now: Date,
): Promise<NewJob | null> {
  const highest = Math.max(-1, ...allocations.map((a) => a.index));
  if (highest + 1 < GAP_WARNING_THRESHOLD) return null;
  let family = families.get(walletId);
  if (family === undefined) {
    const row = await db.selectFrom('wallets').select('family').where('id', '=', walletId).executeTakeFirst();
    if (!row) return null;
    family = row.family;
    families.set(walletId, family);
  }
  if (family !== 'bitcoin') return null;
  return {
    kind: 'wallet.gap_check',
    dedupeKey: `gap_check:${walletId}`,
    payload: { walletId },
    runAt: now,
    now,
  };
}

/** One address for one option (see allocateAddresses). */
export async function allocateAddress(
  trx: Transaction<Schema>,
  dialect: DialectName,
  walletId: string,
  optionId: string,
  now: Date,
  derive: (index: number) => string,
): Promise<Allocation> {
  const [allocation] = await allocateAddresses(trx, dialect, walletId, [optionId], now, derive);
  if (!allocation) throw new Error('no address allocated');
  return allocation;
}

/** Atomically takes `count` fresh indexes from the wallet's counter. */
export async function reserveIndexes(
  trx: Transaction<Schema>,
  walletId: string,
  count: number,
): Promise<number[]> {
  const row = await trx
    .updateTable('wallets')
    .set((eb) => ({ next_index: eb('next_index', '+', count) }))
    .where('id', '=', walletId)
    .returning('next_index')
    .executeTakeFirstOrThrow();
  const end = row.next_index;
  return Array.from({ length: count }, (_, i) => end - count + i);
}
