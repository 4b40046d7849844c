import type { Kysely } from 'kysely';
import type { Database } from '../db/connect.ts';
import type { Schema } from '../db/schema.ts';
import type { CheckedStatement } from '../db/sqlite-writer.ts';
import { iso } from '../db/values.ts';
import type { Allocation } from './allocator.ts';

export interface FreeAddress {
  index: number;
  address: string;
}

/** How many free addresses one read brings in beyond the batch that asked. */
const READ_AHEAD = 512;

/**
 * A read looks first at the addresses just past where the last one ended, this many times as many
 * indexes as it wants (see `read`).
 */
const WINDOW_FACTOR = 4;

/** How many times one `take` reads the pool while batches keep giving addresses back meanwhile. */
const MAX_READS = 3;

/** How long a wallet is left to the allocator after a cached address was found taken. */
const CONFLICT_BACKOFF_MS = 2_000;

/**
 * Pipelined invoice batches (pipelined-invoice-write.ts) choose their addresses before they write,
 * so a whole batch is one message to SQLite's writer thread or one PostgreSQL statement. The
 * choice is made here from free addresses read beforehand (SQLite's reader connection, or the
 * PostgreSQL pool); addresses handed to a batch not yet committed are held back from every other
 * batch of this process.
 *
 * This is a cache, not the allocator's authority: each chosen address is claimed by a conditional
 * UPDATE that must find it still free (`option_id is null`), in the batch's own write. If another
 * process (the CLI, another gateway) took one meanwhile, the batch is aborted whole and its invoices
 * are written again through the ordinary allocator. An index is still never handed out twice.
 */
export class AddressReservations {
  private readonly free = new Map<string, FreeAddress[]>();
  private readonly held = new Map<string, Set<number>>();
  /** Per wallet: reads in flight, and the indexes committed while any of them was. */
  private readonly reads = new Map<string, { inFlight: number; committed: Set<number> }>();
  /** Per wallet: when a claim last found its address taken by someone else. */
  private readonly conflictAt = new Map<string, number>();
  /**
   * Per wallet: the index the next read starts from. Every address below it was claimed, or is
   * held by a batch of this process. Dropping the cached list moves it back to the list's first
   * address, and a batch that fails moves it back to the lowest address it gives back, so the
   * lowest free addresses still go first (`restart`).
   */
  private readonly readFrom = new Map<string, number>();
  /** Per wallet: bumped by each `restart`, so a read that was in flight meanwhile is done again. */
  private readonly restarts = new Map<string, number>();

  constructor(private readonly database: Database) {}

  /**
   * The wallet's `count` lowest free addresses not held by another batch, or null: too few, or
   * another writer took one of the cached ones less than CONFLICT_BACKOFF_MS ago.
   */
  async take(walletId: string, count: number): Promise<FreeAddress[] | null> {
    if (Date.now() - (this.conflictAt.get(walletId) ?? -Infinity) < CONFLICT_BACKOFF_MS) return null;
    const held = this.heldFor(walletId);
    let list = this.free.get(walletId) ?? [];
    if (list.length < count) {
      const reads = this.readsFor(walletId);
      reads.inFlight += 1;
      let rows: FreeAddress[] | null = null;
      try {
        // A restart while reading (a batch gave addresses back below where this read began)
        // makes the read stale: read again, a few times at most while batches keep failing.
        for (let attempt = 0; attempt < MAX_READS && rows === null; attempt++) {
          const restarts = this.restarts.get(walletId) ?? 0;
          const from = list[0]?.index ?? this.readFrom.get(walletId) ?? 0;
          const read = await this.read(walletId, count + held.size, from);
          if ((this.restarts.get(walletId) ?? 0) === restarts) rows = read;
          else list = [];
        }
      } finally {
        reads.inFlight -= 1;
      }
      if (rows === null) {
        if (reads.inFlight === 0) reads.committed.clear();
        return null;
      }
      const last = rows.at(-1);
      if (last) this.readFrom.set(walletId, last.index + 1);
      // Filtered in the same synchronous step as the taking below: a batch that took addresses
      // while this read was in flight holds them by now, and one that committed meanwhile (the
      // read may predate its commit) is remembered in `committed` until no read is in flight.
      list = rows.filter((a) => !held.has(a.index) && !reads.committed.has(a.index));
      if (reads.inFlight === 0) reads.committed.clear();
      this.free.set(walletId, list);
    }
    if (list.length < count) {
      // The allocator will claim (or derive) this wallet's next addresses: the list goes stale.
      this.restart(walletId);
      return null;
    }
    const taken = list.splice(0, count);
    for (const a of taken) held.add(a.index);
    return taken;
  }

  /**
   * Ends a batch's hold. Committed, its addresses are no longer free in the database. Not
   * committed, they are free again; the cached list is dropped so that the next read puts them
   * back first, in index order (a gap in handed-out indexes is what wallets' gap limits punish).
   */
  release(walletId: string, addresses: readonly FreeAddress[], committed: boolean): void {
    const held = this.heldFor(walletId);
    for (const a of addresses) held.delete(a.index);
    const reads = this.readsFor(walletId);
    if (committed && reads.inFlight > 0) for (const a of addresses) reads.committed.add(a.index);
    if (!committed) this.restart(walletId, addresses);
  }

  /**
   * A claim found a cached address taken by another writer. Most likely another gateway process
   * shares the database: both caches start at the lowest free index and would keep colliding, each
   * collision costing an aborted write. For a while this process leaves the wallet to the
   * allocator, whose SKIP LOCKED claims step around the other's rows.
   */
  conflicted(walletId: string): void {
    this.conflictAt.set(walletId, Date.now());
    this.restart(walletId);
  }

  /**
   * Drops the wallet's cached list: the allocator path (transaction writes) has claimed or is about
   * to claim addresses it may hold. A stale list is still safe — the claim fails and the batch is
   * redone — but each such miss costs a rolled-back batch.
   */
  forget(walletId: string): void {
    this.restart(walletId);
  }

  /**
   * Drops the cached list. The next read starts at the lowest address that may be free again: the
   * list's first, or the lowest of those a failed batch gave back, if below the read position.
   */
  private restart(walletId: string, givenBack: readonly FreeAddress[] = []): void {
    let from = this.readFrom.get(walletId);
    if (from !== undefined) {
      for (const a of [...(this.free.get(walletId) ?? []), ...givenBack]) from = Math.min(from, a.index);
      this.readFrom.set(walletId, from);
    }
    this.free.delete(walletId);
    this.restarts.set(walletId, (this.restarts.get(walletId) ?? 0) + 1);
  }

  private readsFor(walletId: string): { inFlight: number; committed: Set<number> } {
    let reads = this.reads.get(walletId);
    if (!reads) {
      reads = { inFlight: 0, committed: new Set() };
      this.reads.set(walletId, reads);
    }
    return reads;
  }

  private heldFor(walletId: string): Set<number> {
    let held = this.held.get(walletId);
    if (!held) {
      held = new Set();
      this.held.set(walletId, held);
    }
    return held;
  }

  /**
   * The wallet's free addresses from index `from` on, in index order: `count` and READ_AHEAD more.
   * First only among the next WINDOW_FACTOR × that many indexes, and the whole rest of the pool
   * only if those hold too few: on statistics gathered before the pool was filled, PostgreSQL
   * read all of a 200,000-address pool (a bitmap scan, then a sort) for 600 rows, 33 ms each
   * time, half of its time under the core benchmark. Bounded, any plan reads at most the window.
   */
  protected async read(walletId: string, count: number, from = 0): Promise<FreeAddress[]> {
    const wanted = count + READ_AHEAD;
    const windowed = await this.readRange(walletId, wanted, from, from + WINDOW_FACTOR * wanted);
    if (windowed.length >= wanted) return windowed;
    return this.readRange(walletId, wanted, from, null);
  }

  private async readRange(
    walletId: string,
    limit: number,
    from: number,
    below: number | null,
  ): Promise<FreeAddress[]> {
    const rows = await freeAddressesQuery(this.database.read, walletId, limit, from, below).execute();
    return rows.map((r) => ({ index: r.derivation_index, address: r.address }));
  }
}

/** The wallet's lowest free addresses from index `from` (and below `below`, when given). */
export function freeAddressesQuery(
  db: Kysely<Schema>,
  walletId: string,
  limit: number,
  from: number,
  below: number | null,
) {
  let query = db
    .selectFrom('wallet_addresses')
    .select(['derivation_index', 'address'])
    .where('wallet_id', '=', walletId)
    .where('option_id', 'is', null)
    .where('derivation_index', '>=', from);
  if (below !== null) query = query.where('derivation_index', '<', below);
  return query.orderBy('derivation_index').limit(limit);
}

/**
 * The claim of one reserved address, for the batch's transaction: it must change exactly one row,
 * or the address was taken elsewhere and the whole batch rolls back. Written out rather than built
 * with Kysely: compiling it per address was 5% of the main thread under load.
 */
export function claimReservedStatement(
  walletId: string,
  allocation: Pick<Allocation, 'index' | 'optionId'>,
  now: Date,
): CheckedStatement {
  return {
    sql: CLAIM_RESERVED_SQL,
    parameters: [allocation.optionId, iso(now), walletId, allocation.index],
    expectChanges: 1,
  };
}

const CLAIM_RESERVED_SQL =
  'update "wallet_addresses" set "option_id" = ?, "allocated_at" = ? ' +
  'where "wallet_id" = ? and "derivation_index" = ? and "option_id" is null';

const reservations = new WeakMap<Database, AddressReservations>();

export function addressReservationsFor(database: Database): AddressReservations {
  let found = reservations.get(database);
  if (!found) {
    found = new AddressReservations(database);
    reservations.set(database, found);
  }
  return found;
}
