/**
 * Pipelined invoice batches (SQLite's writer-thread message, PostgreSQL's one statement) choose
 * addresses from a cached view of the free pool before they write (address-reservations.ts). The
 * cache may be stale — another process can claim an address meanwhile — and must never turn that
 * into a double hand-out, a half-written batch, or a failed request.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/connect.ts';
import { type CreateInvoiceInput, createInvoice } from '../../src/invoices/create-invoice.ts';
import { topUpAddressPool } from '../../src/wallets/address-pool.ts';
import { AddressReservations, type FreeAddress } from '../../src/wallets/address-reservations.ts';
import { DATABASES, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness, walletIdOf } from '../helpers/harness.ts';

const INPUT: CreateInvoiceInput = {
  price: { amount: '5.00', currency: 'USD' },
  payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
};

async function indexOf(h: Harness, optionId: string | undefined): Promise<number> {
  const row = await h.tally.database.db
    .selectFrom('payment_options')
    .select('derivation_index')
    .where('id', '=', optionId ?? '')
    .executeTakeFirstOrThrow();
  return row.derivation_index;
}

const elsewhere = (walletId: string, index: number) => `opt_elsewhere_${walletId}_${index}`;

/** Claims the addresses through a connection of its own, as another process would. */
async function claimElsewhere(
  db: TestDatabase,
  walletId: string,
  indexes: number[],
): Promise<Array<{ derivation_index: number; address: string }>> {
  const other = openDatabase({ url: db.url, poolSize: 1 });
  try {
    const claimed = [];
    for (const index of indexes) {
      const row = await other.db
        .updateTable('wallet_addresses')
        .set({ option_id: elsewhere(walletId, index), allocated_at: '2026-11-21T12:00:00.000Z' })
        .where('wallet_id', '=', walletId)
        .where('derivation_index', '=', index)
        .returning(['derivation_index', 'address'])
        .executeTakeFirstOrThrow();
      claimed.push(row);
    }
    return claimed;
  } finally {
    await other.close();
  }
}

describe.each(DATABASES)('pipelined address claims on $name', ({ fresh }) => {
  let db: TestDatabase;
  let h: Harness;
  let walletId: string;
  beforeAll(async () => {
    db = await fresh();
    h = await createHarness(db, { poolTarget: 30 });
    walletId = await walletIdOf(h, 'bitcoin-regtest');
    await topUpAddressPool(h.tally.database, walletId);
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  it('an address another process claims after it was cached is not handed out again', async () => {
    // The first creation fills the cache with the pool's free addresses.
    const first = await createInvoice(h.tally, h.merchantId, INPUT);
    const firstIndex = await indexOf(h, first.payment_options[0]?.id);

    // Another process (its own connection, as the CLI or a second gateway would be) claims the next two.
    const taken = await claimElsewhere(db, walletId, [firstIndex + 1, firstIndex + 2]);
    expect(taken).toHaveLength(2);

    // Created together: one batch whose stale choice collides; it must fail and be redone.
    const created = await Promise.all(
      Array.from({ length: 5 }, () => createInvoice(h.tally, h.merchantId, INPUT)),
    );
    const addresses = created.map((inv) => inv.payment_options[0]?.address);
    const indexes = (await Promise.all(created.map((inv) => indexOf(h, inv.payment_options[0]?.id)))).sort(
      (a, b) => a - b,
    );
    for (const t of taken) expect(addresses).not.toContain(t.address);
    expect(new Set(addresses).size).toBe(5);

    // The other process's claims stand, and every invoice's option owns its row.
    const rows = await h.tally.database.db
      .selectFrom('wallet_addresses')
      .select(['derivation_index', 'option_id', 'address'])
      .where('wallet_id', '=', walletId)
      .where('option_id', 'is not', null)
      .orderBy('derivation_index')
      .execute();
    for (const t of taken) {
      expect(rows.find((r) => r.derivation_index === t.derivation_index)?.option_id).toBe(
        elsewhere(walletId, t.derivation_index),
      );
    }
    for (const inv of created) {
      const option = inv.payment_options[0];
      const row = rows.find((r) => r.option_id === option?.id);
      expect(row?.address).toBe(option?.address);
    }
    // No index skipped: the failed batch's addresses went back to the pool and were used first.
    expect(indexes).toEqual([firstIndex + 3, firstIndex + 4, firstIndex + 5, firstIndex + 6, firstIndex + 7]);
  });

  it('a lone invoice whose cached address was taken elsewhere is still created', async () => {
    await createInvoice(h.tally, h.merchantId, INPUT);
    const next = await h.tally.database.db
      .selectFrom('wallet_addresses')
      .select('derivation_index')
      .where('wallet_id', '=', walletId)
      .where('option_id', 'is', null)
      .orderBy('derivation_index')
      .executeTakeFirstOrThrow();
    await claimElsewhere(db, walletId, [next.derivation_index]);
    // Alone in its batch: its stale choice fails the claim, and it is written through the allocator.
    const lone = await createInvoice(h.tally, h.merchantId, INPUT);
    expect(await indexOf(h, lone.payment_options[0]?.id)).toBe(next.derivation_index + 1);
  });

  it('falls back to inline derivation when the pool holds too few free addresses', async () => {
    const free = await h.tally.database.db
      .selectFrom('wallet_addresses')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('wallet_id', '=', walletId)
      .where('option_id', 'is', null)
      .executeTakeFirstOrThrow();
    const created = await Promise.all(
      Array.from({ length: Number(free.n) + 3 }, () => createInvoice(h.tally, h.merchantId, INPUT)),
    );
    const addresses = created.map((inv) => inv.payment_options[0]?.address);
    expect(new Set(addresses).size).toBe(created.length);
    const options = await h.tally.database.db
      .selectFrom('payment_options')
      .select(['id', 'address', 'derivation_index'])
      .where('wallet_id', '=', walletId)
      .execute();
    const indexes = options.map((o) => o.derivation_index);
    expect(new Set(indexes).size).toBe(indexes.length);
  });

  it('a lone invoice after a burst the allocator served from a short pool is still created', async () => {
    // The previous test emptied the pool through the allocator. Refill it a little, warm the cache,
    // then outrun it: the burst goes through the allocator, which claims what the cache held.
    await h.tally.database.db
      .updateTable('wallets')
      .set({ pool_target: 5 })
      .where('id', '=', walletId)
      .execute();
    await topUpAddressPool(h.tally.database, walletId);
    await createInvoice(h.tally, h.merchantId, INPUT);
    await Promise.all(Array.from({ length: 8 }, () => createInvoice(h.tally, h.merchantId, INPUT)));
    await topUpAddressPool(h.tally.database, walletId);
    const lone = await createInvoice(h.tally, h.merchantId, INPUT);
    expect(lone.payment_options[0]?.address).toBeTruthy();
  });

  it("a batch across two wallets, the second one's cached address taken, is redone whole", async () => {
    // A merchant of its own: its wallets have no back-off from the earlier tests' collisions.
    const { merchantId } = await h.newMerchant('Two wallets');
    const evmWallet = await h.tally.database.db
      .selectFrom('wallets')
      .select('id')
      .where('merchant_id', '=', merchantId)
      .where('scope', '=', 'evm')
      .executeTakeFirstOrThrow();
    // Both wallets' pools filled: a short pool would send the batch to the allocator at once.
    for (const wallet of await h.tally.database.db
      .selectFrom('wallets')
      .select('id')
      .where('merchant_id', '=', merchantId)
      .execute())
      await topUpAddressPool(h.tally.database, wallet.id);
    const TWO_WALLETS: CreateInvoiceInput = {
      price: { amount: '5.00', currency: 'USD' },
      payment_options: [
        { asset: 'BTC', network: 'bitcoin-regtest' },
        { asset: 'ETH', network: 'evm-devnet' },
      ],
    };
    const first = await createInvoice(h.tally, merchantId, TWO_WALLETS);
    const evmIndex = await indexOf(h, first.payment_options[1]?.id);
    const [taken] = await claimElsewhere(db, evmWallet.id, [evmIndex + 1]);
    const next = await createInvoice(h.tally, merchantId, TWO_WALLETS);
    expect(next.payment_options[1]?.address).not.toBe(taken?.address);
    expect(await indexOf(h, next.payment_options[1]?.id)).toBe(evmIndex + 2);
    const row = await h.tally.database.db
      .selectFrom('wallet_addresses')
      .select('option_id')
      .where('wallet_id', '=', evmWallet.id)
      .where('derivation_index', '=', evmIndex + 1)
      .executeTakeFirstOrThrow();
    expect(row.option_id).toBe(elsewhere(evmWallet.id, evmIndex + 1));
    // Nothing of an aborted attempt is left: one event and two options per invoice created.
    for (const invoice of [first, next]) {
      for (const [table, n] of [
        ['events', 1],
        ['payment_options', 2],
      ] as const) {
        const rows = await h.tally.database.db
          .selectFrom(table)
          .select('id')
          .where('invoice_id', '=', invoice.id)
          .execute();
        expect(rows, table).toHaveLength(n);
      }
    }
  });
});

describe('the reservation cache', () => {
  /** Its read of the free pool answers only when the test says so; it records where each began. */
  class GatedReservations extends AddressReservations {
    gate: { rows: FreeAddress[]; open: () => void } | null = null;
    readsFrom: number[] = [];
    protected override async read(_walletId: string, _count: number, from = 0): Promise<FreeAddress[]> {
      this.readsFrom.push(from);
      const gate = { rows: [] as FreeAddress[], open: () => {} };
      const opened = new Promise<void>((resolve) => {
        gate.open = resolve;
      });
      this.gate = gate;
      await opened;
      return gate.rows;
    }
  }
  const address = (index: number) => ({ index, address: `addr${index}` });

  it('does not hand out an address committed while its read of the pool was in flight', async () => {
    const reservations = new GatedReservations({} as never);
    const taking = reservations.take('wal_x', 2);
    // Another batch commits addresses 0 and 1 while the read runs; the read began before that
    // commit and still lists them as free.
    reservations.release('wal_x', [address(0), address(1)], true);
    if (!reservations.gate) throw new Error('the read must be in flight');
    reservations.gate.rows = [0, 1, 2, 3].map(address);
    reservations.gate.open();
    expect((await taking)?.map((a) => a.index)).toEqual([2, 3]);
  });

  it('leaves a wallet to the allocator for a while after a cached address was found taken', async () => {
    const reservations = new GatedReservations({} as never);
    reservations.conflicted('wal_y');
    expect(await reservations.take('wal_y', 1)).toBeNull();
    expect(reservations.gate).toBeNull();
  });

  /** Takes `count` addresses, answering the read (if one is made) with the free indexes given. */
  async function takeAnswering(
    reservations: GatedReservations,
    count: number,
    free: number[],
  ): Promise<number[] | undefined> {
    reservations.gate = null;
    const taking = reservations.take('wal_z', count);
    await Promise.resolve();
    if (reservations.gate) {
      const gate = reservations.gate as { rows: FreeAddress[]; open: () => void };
      gate.rows = free.map(address);
      gate.open();
    }
    return (await taking)?.map((a) => a.index);
  }

  it('reads on from where the last read ended, not from the start of the pool', async () => {
    const reservations = new GatedReservations({} as never);
    expect(await takeAnswering(reservations, 2, [0, 1, 2, 3])).toEqual([0, 1]);
    reservations.release('wal_z', [0, 1].map(address), true);
    // Two left in the cached list: no read.
    expect(await takeAnswering(reservations, 2, [])).toEqual([2, 3]);
    reservations.release('wal_z', [2, 3].map(address), true);
    // The list is empty: the read starts past the last one's end (index 3).
    expect(await takeAnswering(reservations, 1, [4, 5])).toEqual([4]);
    // One cached, two wanted: the read starts at the cached one, which is still free.
    expect(await takeAnswering(reservations, 2, [5, 6, 7])).toEqual([5, 6]);
    expect(reservations.readsFrom).toEqual([0, 4, 5]);
  });

  it('reads from the lowest address a failed batch gives back, so those go first', async () => {
    const reservations = new GatedReservations({} as never);
    expect(await takeAnswering(reservations, 2, [3, 4, 5, 6])).toEqual([3, 4]);
    expect(await takeAnswering(reservations, 2, [])).toEqual([5, 6]);
    reservations.release('wal_z', [3, 4].map(address), true);
    reservations.release('wal_z', [5, 6].map(address), false);
    expect(await takeAnswering(reservations, 2, [5, 6, 7])).toEqual([5, 6]);
    expect(reservations.readsFrom).toEqual([0, 5]);
  });

  it('reads from the first address of a list it drops, not past the last read', async () => {
    const reservations = new GatedReservations({} as never);
    expect(await takeAnswering(reservations, 1, [0, 1, 2, 3])).toEqual([0]);
    reservations.release('wal_z', [address(0)], true);
    // The allocator is about to claim this wallet's lowest free addresses: the list is dropped.
    reservations.forget('wal_z');
    expect(await takeAnswering(reservations, 1, [2, 3])).toEqual([2]);
    expect(reservations.readsFrom).toEqual([0, 1]);
  });

  it('reads again when addresses were given back below it while its read was in flight', async () => {
    const reservations = new GatedReservations({} as never);
    expect(await takeAnswering(reservations, 2, [0, 1, 2, 3])).toEqual([0, 1]);
    expect(await takeAnswering(reservations, 2, [])).toEqual([2, 3]);
    const taking = reservations.take('wal_z', 1);
    await Promise.resolve();
    // The read from index 4 is in flight when the batch holding 0 and 1 fails.
    reservations.release('wal_z', [0, 1].map(address), false);
    const stale = reservations.gate as { rows: FreeAddress[]; open: () => void } | null;
    if (!stale) throw new Error('the read must be in flight');
    stale.rows = [4, 5].map(address);
    reservations.gate = null;
    stale.open();
    await new Promise((resolve) => setImmediate(resolve));
    const again = reservations.gate as { rows: FreeAddress[]; open: () => void } | null;
    if (!again) throw new Error('the read must be made again');
    again.rows = [0, 1, 4, 5].map(address);
    again.open();
    expect((await taking)?.map((a) => a.index)).toEqual([0]);
    expect(reservations.readsFrom).toEqual([0, 4, 0]);
  });

  it('gives up after three reads made stale by batches failing meanwhile, and leaves it to the allocator', async () => {
    const reservations = new GatedReservations({} as never);
    expect(await takeAnswering(reservations, 1, [0, 1])).toEqual([0]);
    const taking = reservations.take('wal_z', 2);
    for (let read = 0; read < 3; read++) {
      await new Promise((resolve) => setImmediate(resolve));
      const gate = reservations.gate as { rows: FreeAddress[]; open: () => void } | null;
      if (!gate) throw new Error(`read ${read + 1} must be in flight`);
      reservations.gate = null;
      reservations.release('wal_z', [address(0)], false);
      gate.rows = [0, 1, 2].map(address);
      gate.open();
    }
    expect(await taking).toBeNull();
    expect(reservations.readsFrom).toHaveLength(4);
  });
});

describe.each(DATABASES)('reading the free pool on $name', ({ fresh }) => {
  /** Exposes the pool read. */
  class Reader extends AddressReservations {
    readPool(walletId: string, count: number, from: number): Promise<FreeAddress[]> {
      return this.read(walletId, count, from);
    }
  }
  let db: TestDatabase;
  let h: Harness;
  let walletId: string;
  beforeAll(async () => {
    db = await fresh();
    h = await createHarness(db, { poolTarget: 3_100 });
    walletId = await walletIdOf(h, 'bitcoin-regtest');
    await topUpAddressPool(h.tally.database, walletId);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  it('reads past a window of taken addresses to the lowest free ones', async () => {
    // Indexes 10 to 2,499 taken (by another process, say): the first window, from index 0, holds
    // ten free addresses where 513 are wanted, so the read goes on through the rest of the pool.
    await h.tally.database.db
      .updateTable('wallet_addresses')
      .set({ option_id: sql<string>`'opt_taken_' || derivation_index` })
      .where('wallet_id', '=', walletId)
      .where('derivation_index', '>=', 10)
      .where('derivation_index', '<', 2_500)
      .execute();
    const rows = await new Reader(h.tally.database).readPool(walletId, 1, 0);
    expect(rows.map((r) => r.index)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i),
      ...Array.from({ length: 503 }, (_, i) => 2_500 + i),
    ]);
    // From index 5, the window holds too few again; from 2,500 it holds enough on its own.
    expect(
      (await new Reader(h.tally.database).readPool(walletId, 1, 5)).map((r) => r.index).slice(0, 6),
    ).toEqual([5, 6, 7, 8, 9, 2_500]);
    const pastTheTaken = await new Reader(h.tally.database).readPool(walletId, 1, 2_500);
    expect(pastTheTaken.map((r) => r.index)).toEqual(Array.from({ length: 513 }, (_, i) => 2_500 + i));
  });
});
