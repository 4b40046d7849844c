/**
 * Migration 0020 recomputes each wallet's key fingerprint over the key material alone (chain code
 * and public key). Wallets stored with 0003's whole-key hash get the new one; two wallets of one
 * scope that hold the same key under different key bytes stop the migration, which names both and
 * writes nothing.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { createBase58check } from '@scure/base';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/connect.ts';
import { DEV_EVM_XPUB, DEV_REGTEST_TPUB } from '../../src/dev/dev-wallets.ts';
import { keyFingerprint } from '../../src/wallets/extended-key.ts';
import { DATABASES, type TestDatabase } from '../helpers/databases.ts';
import { migrateThrough } from '../helpers/migrate-through.ts';

const b58 = createBase58check(sha256);
/** 0003's fingerprint: a hash of the whole (normalized) key text. */
const wholeKeyHash = (key: string) =>
  Buffer.from(sha256(new TextEncoder().encode(key)))
    .toString('hex')
    .slice(0, 32);
/** The key with its parent-fingerprint bytes changed: another text, the same addresses. */
function tweaked(key: string): string {
  const bytes = new Uint8Array(b58.decode(key));
  bytes[5] = (bytes[5] ?? 0) ^ 0xff;
  return b58.encode(bytes);
}

async function legacyWallet(database: Database, id: string, merchant: string, scope: string, xpub: string) {
  const family = scope === 'evm' ? 'evm' : 'bitcoin';
  await sql`insert into wallets (id, merchant_id, family, scope, xpub, script_type, label, next_index,
      pool_target, created_at, key_fingerprint)
    values (${id}, ${merchant}, ${family}, ${scope}, ${xpub}, 'p2wpkh', null, 0, 5,
      ${'2026-11-01T10:00:00.000Z'}, ${wholeKeyHash(xpub)})`.execute(database.db);
}

const fingerprints = async (database: Database) =>
  Object.fromEntries(
    (
      await sql<{
        id: string;
        key_fingerprint: string;
      }>`select id, key_fingerprint from wallets order by id`.execute(database.db)
    ).rows.map((r) => [r.id, r.key_fingerprint]),
  );

describe.each(DATABASES)('migration 0020 on $name', ({ fresh }) => {
  let target: TestDatabase;
  let database: Database;
  beforeEach(async () => {
    target = await fresh();
    database = openDatabase({ url: target.url });
    await migrateThrough(database, '0019_invoices_by_customer');
    for (const id of ['mer_1', 'mer_2'])
      await sql`insert into merchants (id, name, policy, created_at) values (${id}, 'm', '{}', ${'2026-11-01T10:00:00.000Z'})`.execute(
        database.db,
      );
  });
  afterEach(async () => {
    await database.close();
    await target.drop();
  });

  it("stores each wallet's key-material fingerprint in place of the whole-key hash", async () => {
    await legacyWallet(database, 'wal_1', 'mer_1', 'bitcoin-regtest', DEV_REGTEST_TPUB);
    await legacyWallet(database, 'wal_2', 'mer_1', 'evm', DEV_EVM_XPUB);
    await migrateThrough(database, '0020_key_fingerprint_of_key_material');
    expect(await fingerprints(database)).toEqual({
      wal_1: keyFingerprint(DEV_REGTEST_TPUB),
      wal_2: keyFingerprint(DEV_EVM_XPUB),
    });
    expect(keyFingerprint(DEV_REGTEST_TPUB)).not.toBe(wholeKeyHash(DEV_REGTEST_TPUB));
    expect(keyFingerprint(tweaked(DEV_REGTEST_TPUB))).toBe(keyFingerprint(DEV_REGTEST_TPUB));
  });

  it('stops, naming both wallets and writing nothing, when two wallets of a scope hold one key', async () => {
    await legacyWallet(database, 'wal_1', 'mer_1', 'bitcoin-regtest', DEV_REGTEST_TPUB);
    await legacyWallet(database, 'wal_2', 'mer_2', 'bitcoin-regtest', tweaked(DEV_REGTEST_TPUB));
    const before = await fingerprints(database);
    await expect(migrateThrough(database, '0020_key_fingerprint_of_key_material')).rejects.toThrow(
      /wal_1 \(merchant mer_1\) and wal_2 \(merchant mer_2\) hold the same bitcoin-regtest key/,
    );
    expect(await fingerprints(database)).toEqual(before);
  });
});
