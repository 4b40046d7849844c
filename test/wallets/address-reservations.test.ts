/**
 * Pipelined invoice batches (SQLite's writer-thread message, PostgreSQL's one statement) choose
 * addresses from a cached view of the free pool before they write (address-reservations.ts). The
 * cache may be stale — another process can claim an address meanwhile — and must never turn that
 * into a double hand-out, a half-written batch, or a failed request.
 */
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
  /** Its read of the free pool answers only when the test says so. */
  class GatedReservations extends AddressReservations {
    gate: { rows: FreeAddress[]; open: () => void } | null = null;
    protected override async read(): Promise<FreeAddress[]> {
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
});
