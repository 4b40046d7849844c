import type { Database } from '../db/connect.ts';
import type { CheckedStatement } from '../db/sqlite-writer.ts';
import { iso } from '../db/values.ts';
import type { Allocation } from './allocator.ts';

export interface FreeAddress {
  index: number;
  address: string;
}

/** How many free addresses one read brings in beyond the batch that asked. */
const READ_AHEAD = 512;

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
      let rows: FreeAddress[];
      try {
        rows = await this.read(walletId, count + held.size);
      } finally {
        reads.inFlight -= 1;
      }
      // Filtered in the same synchronous step as the taking below: a batch that took addresses
      // while this read was in flight holds them by now, and one that committed meanwhile (the
      // read may predate its commit) is remembered in `committed` until no read is in flight.
      list = rows.filter((a) => !held.has(a.index) && !reads.committed.has(a.index));
      if (reads.inFlight === 0) reads.committed.clear();
      this.free.set(walletId, list);
    }
    if (list.length < count) {
      // The allocator will claim (or derive) this wallet's next addresses: the list goes stale.
      this.free.delete(walletId);
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
    if (!committed) this.free.delete(walletId);
  }

  /**
   * A claim found a cached address taken by another writer. Most likely another gateway process
   * shares the database: both caches start at the lowest free index and would keep colliding, each
   * collision costing an aborted write. For a while this process leaves the wallet to the
   * allocator, whose SKIP LOCKED claims step around the other's rows.
   */
  conflicted(walletId: string): void {
    this.conflictAt.set(walletId, Date.now());
    this.free.delete(walletId);
  }

  /**
   * Drops the wallet's cached list: the allocator path (transaction writes) has claimed or is about
   * to claim addresses it may hold. A stale list is still safe — the claim fails and the batch is
   * redone — but each such miss costs a rolled-back batch.
   */
  forget(walletId: string): void {
    this.free.delete(walletId);
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

  protected async read(walletId: string, count: number): Promise<FreeAddress[]> {
    const rows = await this.database.read
      .selectFrom('wallet_addresses')
      .select(['derivation_index', 'address'])
      .where('wallet_id', '=', walletId)
      .where('option_id', 'is', null)
      .orderBy('derivation_index')
      .limit(count + READ_AHEAD)
      .execute();
    return rows.map((r) => ({ index: r.derivation_index, address: r.address }));
  }
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
