/**
 * The allocator's one promise: an index (and so an address) is never handed out twice — under a
 * burst of concurrent creations, across independent connection pools (processes) on PostgreSQL,
 * and across transactions that allocate and then fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tally } from '../../src/context.ts';
import { newId } from '../../src/core/ids.ts';
import { type Database, openDatabase } from '../../src/db/connect.ts';
import { type CreateInvoiceInput, createInvoice } from '../../src/invoices/create-invoice.ts';
import { topUpAddressPool } from '../../src/wallets/address-pool.ts';
import { allocateAddress } from '../../src/wallets/allocator.ts';
import { addressDeriver } from '../../src/wallets/families.ts';
import { DATABASES, freshPostgres } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

const POOL_TARGET = 5;

/** Two wallets (regtest and EVM), three options: the EVM wallet allocates twice per invoice. */
const INPUT: CreateInvoiceInput = {
  price: { amount: '12.34', currency: 'USD' },
  payment_options: [
    { asset: 'BTC', network: 'bitcoin-regtest' },
    { asset: 'ETH', network: 'evm-devnet' },
    { asset: 'ETH', network: 'ethereum' },
  ],
};

interface WalletRow {
  id: string;
  scope: string;
  xpub: string;
  script_type: string;
  next_index: number;
}

async function walletsOf(h: Harness, merchantId: string): Promise<WalletRow[]> {
  return h.tally.database.db
    .selectFrom('wallets')
    .select(['id', 'scope', 'xpub', 'script_type', 'next_index'])
    .where('merchant_id', '=', merchantId)
    .orderBy('scope')
    .execute();
}

async function freeCount(database: Database, walletId: string): Promise<number> {
  const row = await database.db
    .selectFrom('wallet_addresses')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('wallet_id', '=', walletId)
    .where('option_id', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Checks every invariant of the allocation tables for the given wallets: option addresses are
 * distinct, indexes unique per wallet, every option has exactly one wallet_addresses row naming it
 * (same index, same address), and every address is what the xpub derives at that index.
 */
async function assertNoDoubleAllocation(database: Database, wallets: WalletRow[]): Promise<number> {
  const ids = wallets.map((w) => w.id);
  const options = await database.db
    .selectFrom('payment_options')
    .select(['id', 'wallet_id', 'derivation_index', 'address'])
    .where('wallet_id', 'in', ids)
    .execute();
  const addresses = options.map((o) => o.address);
  expect(new Set(addresses).size).toBe(addresses.length);
  const keys = options.map((o) => `${o.wallet_id}/${o.derivation_index}`);
  expect(new Set(keys).size).toBe(keys.length);

  const allocated = await database.db
    .selectFrom('wallet_addresses')
    .select(['wallet_id', 'derivation_index', 'address', 'option_id'])
    .where('wallet_id', 'in', ids)
    .where('option_id', 'is not', null)
    .execute();
  const byOption = new Map(allocated.map((a) => [a.option_id, a]));
  for (const o of options) {
    const row = byOption.get(o.id);
    expect(row, `wallet_addresses row for ${o.id}`).toBeDefined();
    expect(row?.wallet_id).toBe(o.wallet_id);
    expect(row?.derivation_index).toBe(o.derivation_index);
    expect(row?.address).toBe(o.address);
  }
  const walletById = new Map(wallets.map((w) => [w.id, w]));
  for (const o of options) {
    const w = walletById.get(o.wallet_id);
    if (!w) throw new Error(`unknown wallet ${o.wallet_id}`);
    expect(addressDeriver(w.scope, w.xpub, w.script_type)(o.derivation_index)).toBe(o.address);
  }
  // The counter stays ahead of every index ever derived.
  const after = await database.db
    .selectFrom('wallets')
    .select(['id', 'next_index'])
    .where('id', 'in', ids)
    .execute();
  const all = await database.db
    .selectFrom('wallet_addresses')
    .select(['wallet_id', 'derivation_index'])
    .where('wallet_id', 'in', ids)
    .execute();
  for (const w of after) {
    const highest = Math.max(-1, ...all.filter((a) => a.wallet_id === w.id).map((a) => a.derivation_index));
    expect(w.next_index).toBeGreaterThan(highest);
  }
  return options.length;
}

describe.each(DATABASES)('address allocator on $name', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh(), { poolTarget: POOL_TARGET });
    await h.worker.runDue(); // the wallet.top_up jobs fill each pool to its target
  });
  afterAll(async () => h?.close());

  it('never hands out an index twice under 200 concurrent creations (pool and inline paths)', async () => {
    const { merchantId } = await h.newMerchant('Burst');
    await h.worker.runDue();
    const wallets = await walletsOf(h, merchantId);
    expect(wallets).toHaveLength(2);
    for (const w of wallets) expect(await freeCount(h.tally.database, w.id)).toBe(POOL_TARGET);

    const creations = Array.from({ length: 200 }, () => createInvoice(h.tally, merchantId, INPUT));
    // Top-ups race the burst too: they take indexes from the same counter.
    const topUps = wallets.map((w) => topUpAddressPool(h.tally.database, w.id, 2));
    const invoices = await Promise.all(creations);
    await Promise.all(topUps);

    expect(invoices).toHaveLength(200);
    expect(new Set(invoices.map((i) => i.id)).size).toBe(200);
    const shown = invoices.flatMap((i) => i.payment_options.map((o: { address: string }) => o.address));
    expect(shown).toHaveLength(600);
    expect(new Set(shown).size).toBe(600);

    expect(await assertNoDoubleAllocation(h.tally.database, wallets)).toBe(600);
    const allocatedRows = await h.tally.database.db
      .selectFrom('wallet_addresses')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where(
        'wallet_id',
        'in',
        wallets.map((w) => w.id),
      )
      .where('option_id', 'is not', null)
      .executeTakeFirstOrThrow();
    expect(Number(allocatedRows.n)).toBe(600);
    // Both paths ran: the pre-derived pool rows (the lowest indexes) were handed out, and far more
    // indexes than the pool held were derived inline.
    for (const w of wallets) {
      const lowest = await h.tally.database.db
        .selectFrom('wallet_addresses')
        .select(['derivation_index', 'option_id'])
        .where('wallet_id', '=', w.id)
        .where('derivation_index', '<', POOL_TARGET)
        .execute();
      expect(lowest).toHaveLength(POOL_TARGET);
      for (const row of lowest) expect(row.option_id).not.toBeNull();
    }
  });

  it('a transaction that allocates a pooled address and then fails leaves it unallocated', async () => {
    const { merchantId } = await h.newMerchant('Crash pool');
    await h.worker.runDue();
    const [wallet] = (await walletsOf(h, merchantId)).filter((w) => w.scope === 'bitcoin-regtest');
    if (!wallet) throw new Error('no regtest wallet');
    const free = await freeCount(h.tally.database, wallet.id);
    expect(free).toBe(POOL_TARGET);
    const derive = addressDeriver(wallet.scope, wallet.xpub, wallet.script_type);

    const taken = await allocateThenFail(h, wallet.id, derive, 'crash after allocation');

    const row = await h.tally.database.db
      .selectFrom('wallet_addresses')
      .selectAll()
      .where('wallet_id', '=', wallet.id)
      .where('derivation_index', '=', taken.index)
      .executeTakeFirstOrThrow();
    expect(row.option_id).toBeNull();
    expect(row.allocated_at).toBeNull();
    expect(await freeCount(h.tally.database, wallet.id)).toBe(free);

    const invoices = [];
    for (let i = 0; i < 8; i++) {
      invoices.push(
        await createInvoice(h.tally, merchantId, {
          price: { amount: '1', currency: 'USD' },
          payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        }),
      );
    }
    const shown = invoices.map((i) => i.payment_options[0]?.address);
    // The address the failed transaction saw is handed out again (it was never shown), exactly once.
    expect(shown[0]).toBe(taken.address);
    expect(shown.filter((a) => a === taken?.address)).toHaveLength(1);
    expect(new Set(shown).size).toBe(shown.length);
    await assertNoDoubleAllocation(h.tally.database, [wallet]);
  });

  it('a transaction that derives inline and then fails rolls the counter back with it', async () => {
    // No worker run: the new merchant's pools are empty, so allocation derives inline.
    const { merchantId } = await h.newMerchant('Crash inline');
    const [wallet] = (await walletsOf(h, merchantId)).filter((w) => w.scope === 'evm');
    if (!wallet) throw new Error('no evm wallet');
    expect(await freeCount(h.tally.database, wallet.id)).toBe(0);
    const derive = addressDeriver(wallet.scope, wallet.xpub, wallet.script_type);

    const taken = await allocateThenFail(h, wallet.id, derive, 'crash after inline derivation');
    expect(taken.index).toBe(wallet.next_index);

    const after = await h.tally.database.db
      .selectFrom('wallets')
      .select('next_index')
      .where('id', '=', wallet.id)
      .executeTakeFirstOrThrow();
    expect(after.next_index).toBe(wallet.next_index);
    const rows = await h.tally.database.db
      .selectFrom('wallet_addresses')
      .select('derivation_index')
      .where('wallet_id', '=', wallet.id)
      .execute();
    expect(rows).toHaveLength(0);

    const shown: string[] = [];
    for (let i = 0; i < 5; i++) {
      const inv = await createInvoice(h.tally, merchantId, {
        price: { amount: '1', currency: 'USD' },
        payment_options: [{ asset: 'ETH', network: 'evm-devnet' }],
      });
      shown.push(inv.payment_options[0]?.address ?? '');
    }
    expect(shown[0]).toBe(taken.address);
    expect(shown.filter((a) => a === taken?.address)).toHaveLength(1);
    expect(new Set(shown).size).toBe(5);
    await assertNoDoubleAllocation(h.tally.database, [wallet]);
  });

  it('concurrent creations listing the same wallets in opposite orders all succeed', async () => {
    // Empty pools (no worker run): every option derives inline and takes its wallet's counter, so
    // two creations naming the wallets in opposite orders contend on both counters.
    const { merchantId } = await h.newMerchant('Opposite orders');
    const forward = [
      { asset: 'BTC', network: 'bitcoin-regtest' },
      { asset: 'ETH', network: 'evm-devnet' },
    ];
    const backward = [...forward].reverse();
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        createInvoice(h.tally, merchantId, {
          price: { amount: '1', currency: 'USD' },
          payment_options: i % 2 === 0 ? forward : backward,
        }),
      ),
    );
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    expect(failures).toEqual([]);
    expect(await assertNoDoubleAllocation(h.tally.database, await walletsOf(h, merchantId))).toBe(80);
  });

  it('a failing unit in a concurrent burst does not disturb the others', async () => {
    const { merchantId } = await h.newMerchant('Mixed');
    await h.worker.runDue();
    const wallets = await walletsOf(h, merchantId);
    const regtest = wallets.find((w) => w.scope === 'bitcoin-regtest');
    if (!regtest) throw new Error('no regtest wallet');
    const derive = addressDeriver(regtest.scope, regtest.xpub, regtest.script_type);
    const failed: string[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) =>
        i % 3 === 0
          ? h.tally.database.write(async (trx) => {
              const a = await allocateAddress(
                trx,
                h.tally.database.dialect,
                regtest.id,
                newId('opt'),
                h.clock.now(),
                derive,
              );
              failed.push(a.address);
              throw new Error('rolled back');
            })
          : createInvoice(h.tally, merchantId, INPUT),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(20);
    expect(failed).toHaveLength(20);
    expect(await assertNoDoubleAllocation(h.tally.database, wallets)).toBe(40 * 3);
    // Nothing a failed unit saw is allocated to anyone but (at most) one later invoice.
    const options = await h.tally.database.db
      .selectFrom('payment_options')
      .select('address')
      .where('wallet_id', '=', regtest.id)
      .execute();
    for (const address of new Set(failed)) {
      expect(options.filter((o) => o.address === address).length).toBeLessThanOrEqual(1);
    }
  });
});

describe('address allocator across processes on postgres', () => {
  let h: Harness;
  let second: Database;
  let otherTally: Tally;
  beforeAll(async () => {
    const db = await freshPostgres();
    h = await createHarness(db, { poolTarget: POOL_TARGET });
    await h.worker.runDue();
    // An independent pool on the same database, as a second gateway process would have.
    second = openDatabase({ url: db.url, poolSize: 10 });
    otherTally = { ...h.tally, database: second };
  });
  afterAll(async () => {
    await second?.close();
    await h?.close();
  });

  it('two connection pools racing invoice creation never share an address', async () => {
    const wallets = await walletsOf(h, h.merchantId);
    for (const w of wallets) expect(await freeCount(h.tally.database, w.id)).toBe(POOL_TARGET);
    const racing = Array.from({ length: 200 }, (_, i) =>
      createInvoice(i % 2 === 0 ? h.tally : otherTally, h.merchantId, INPUT),
    );
    const invoices = await Promise.all(racing);
    const shown = invoices.flatMap((i) => i.payment_options.map((o: { address: string }) => o.address));
    expect(new Set(shown).size).toBe(600);
    expect(await assertNoDoubleAllocation(h.tally.database, wallets)).toBe(600);
  });

  it('two connection pools racing raw allocations over a large pool never claim the same row', async () => {
    const { merchantId } = await h.newMerchant('Raw race');
    const wallets = await walletsOf(h, merchantId);
    const wallet = wallets.find((w) => w.scope === 'evm');
    if (!wallet) throw new Error('no evm wallet');
    await h.tally.database.db
      .updateTable('wallets')
      .set({ pool_target: 60 })
      .where('id', '=', wallet.id)
      .execute();
    await topUpAddressPool(h.tally.database, wallet.id);
    expect(await freeCount(h.tally.database, wallet.id)).toBe(60);
    const derive = addressDeriver(wallet.scope, wallet.xpub, wallet.script_type);
    const allocate = (database: Database) =>
      database.write(async (trx) => {
        const optionId = newId('opt');
        const a = await allocateAddress(trx, 'postgres', wallet.id, optionId, h.clock.now(), derive);
        return { ...a, optionId };
      });
    const claims = await Promise.all(
      Array.from({ length: 120 }, (_, i) => allocate(i % 2 === 0 ? h.tally.database : second)),
    );
    expect(new Set(claims.map((c) => c.index)).size).toBe(120);
    expect(new Set(claims.map((c) => c.address)).size).toBe(120);
    const rows = await h.tally.database.db
      .selectFrom('wallet_addresses')
      .select(['derivation_index', 'option_id', 'address'])
      .where('wallet_id', '=', wallet.id)
      .execute();
    const byIndex = new Map(rows.map((r) => [r.derivation_index, r]));
    for (const c of claims) {
      expect(byIndex.get(c.index)?.option_id).toBe(c.optionId);
      expect(byIndex.get(c.index)?.address).toBe(c.address);
      expect(derive(c.index)).toBe(c.address);
    }
    // All 60 pooled rows were used before anything was derived inline beyond them.
    expect(rows.filter((r) => r.option_id === null)).toHaveLength(0);
  });
});

/** Allocates one address in a transaction that then fails; returns what the allocation saw. */
async function allocateThenFail(
  h: Harness,
  walletId: string,
  derive: (index: number) => string,
  message: string,
): Promise<{ index: number; address: string }> {
  let taken: { index: number; address: string } | undefined;
  await expect(
    h.tally.database.write(async (trx) => {
      taken = await allocateAddress(
        trx,
        h.tally.database.dialect,
        walletId,
        newId('opt'),
        h.clock.now(),
        derive,
      );
      throw new Error(message);
    }),
  ).rejects.toThrow(message);
  if (!taken) throw new Error('allocation did not run');
  return taken;
}
