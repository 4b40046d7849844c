import { sha256 } from '@noble/hashes/sha2.js';
import { createBase58check } from '@scure/base';
import { HDKey } from '@scure/bip32';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { createMerchant } from '../../src/auth/merchants.ts';
import { TallyError } from '../../src/core/errors.ts';
import { DEV_EVM_XPUB, DEV_REGTEST_TPUB } from '../../src/dev/dev-wallets.ts';
import { validateWalletKey } from '../../src/wallets/families.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

const b58 = createBase58check(sha256);

/** Re-encodes a key with other version bytes or another public key, with a valid checksum. */
function mutate(key: string, change: (bytes: Uint8Array) => void): string {
  const bytes = new Uint8Array(b58.decode(key));
  change(bytes);
  return b58.encode(bytes);
}

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return error instanceof TallyError ? error.code : 'other';
  }
  return 'none';
}

describe('wallet key validation', () => {
  it('accepts the dev tpub for regtest', () => {
    expect(validateWalletKey('bitcoin-regtest', DEV_REGTEST_TPUB)).toEqual({
      family: 'bitcoin',
      scriptType: 'p2wpkh',
    });
  });

  it('takes a upub as BIP49 P2SH-wrapped SegWit, and refuses it as native SegWit', () => {
    const upub = mutate(DEV_REGTEST_TPUB, (b) => new DataView(b.buffer).setUint32(0, 0x044a5262));
    expect(upub.startsWith('upub')).toBe(true);
    expect(validateWalletKey('bitcoin-regtest', upub).scriptType).toBe('p2sh-p2wpkh');
    expect(codeOf(() => validateWalletKey('bitcoin-regtest', upub, 'p2wpkh'))).toBe('invalid_xpub');
  });

  it('refuses a key whose public key is not a curve point at entry, not at the first invoice', () => {
    // x = 5 has no point on secp256k1 (5^3 + 7 = 132 is a quadratic non-residue mod p).
    const offCurve = mutate(DEV_REGTEST_TPUB, (b) => {
      b.fill(0, 46, 78);
      b[45] = 0x02;
      b[77] = 5;
    });
    expect(codeOf(() => validateWalletKey('bitcoin-regtest', offCurve))).toBe('invalid_xpub');
  });
});

describe.each(DATABASES)('concurrent wallet creation on $name', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh());
  });
  afterAll(async () => h?.close());

  it("refuses another merchant's key for the same scope: both would derive the same addresses", async () => {
    const bare = await createMerchant(h.tally.database.db, 'copycat', h.clock.now());
    const { token } = await createApiKey(h.tally.database.db, bare.id, 'admin', ['admin'], h.clock.now());
    const res = await h.request('POST', '/v1/wallets', {
      token,
      body: { scope: 'bitcoin-regtest', xpub: DEV_REGTEST_TPUB },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.details.issues[0].path).toBe('xpub');
  });

  it("refuses a copy of another merchant's key with other parent-fingerprint or child-number bytes", async () => {
    // Derivation reads only the chain code and public key: these copies derive the same addresses.
    const bare = await createMerchant(h.tally.database.db, 'tweaker', h.clock.now());
    const { token } = await createApiKey(h.tally.database.db, bare.id, 'admin', ['admin'], h.clock.now());
    const copies = [
      ['bitcoin-regtest', mutate(DEV_REGTEST_TPUB, (b) => (b[5] = (b[5] ?? 0) ^ 0xff))],
      ['bitcoin-regtest', mutate(DEV_REGTEST_TPUB, (b) => (b[12] = (b[12] ?? 0) ^ 0x01))],
      ['evm', mutate(DEV_EVM_XPUB, (b) => (b[9] = (b[9] ?? 0) ^ 0xff))],
    ] as const;
    for (const [scope, xpub] of copies) {
      const res = await h.request('POST', '/v1/wallets', { token, body: { scope, xpub } });
      expect(res.status).toBe(409);
      expect(res.body.error.details.issues).toEqual([{ path: 'xpub', message: 'is already in use' }]);
    }
  });

  it('shows the xpub to admin keys only; others see its fingerprint', async () => {
    const readOnly = await h.keyWithScopes(['invoices:read']);
    const asReader = await h.request('GET', '/v1/wallets', { token: readOnly });
    expect(asReader.body.data[0].xpub).toBeNull();
    expect(asReader.body.data[0].key_fingerprint).toMatch(/^[0-9a-f]{32}$/);
    const asAdmin = await h.request('GET', '/v1/wallets');
    expect(asAdmin.body.data.map((w: { xpub: string }) => w.xpub)).toContain(DEV_REGTEST_TPUB);
  });

  it('answers one 201 and one 409 duplicate, never a 500', async () => {
    const { token } = await h.newMerchant('bare');
    // newMerchant adds regtest and evm wallets; race two testnet wallets.
    const tpubTestnet = DEV_REGTEST_TPUB;
    const [a, b] = await Promise.all([
      h.request('POST', '/v1/wallets', { token, body: { scope: 'bitcoin-testnet', xpub: tpubTestnet } }),
      h.request('POST', '/v1/wallets', { token, body: { scope: 'bitcoin-testnet', xpub: tpubTestnet } }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.error.code).toBe('duplicate');
  });
});

describe.each(DATABASES)('wallet key depth on $name', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh());
  });
  afterAll(async () => h?.close());

  /** An admin key of a merchant with no wallet yet. */
  async function bareMerchant(name: string): Promise<string> {
    const m = await createMerchant(h.tally.database.db, name, h.clock.now());
    return (await createApiKey(h.tally.database.db, m.id, 'admin', ['admin'], h.clock.now())).token;
  }
  const TEST_VERSIONS = { private: 0x04358394, public: 0x043587cf };

  it('refuses a Bitcoin key that is not an account key (depth 3) unless its key origin says where it sits', async () => {
    const token = await bareMerchant('depths');
    const add = (body: Record<string, unknown>) => h.request('POST', '/v1/wallets', { token, body });
    const master = HDKey.fromMasterSeed(new Uint8Array(32).fill(11));
    // The tester's case: the EVM receive-chain key m/44'/60'/0'/0 (depth 4) offered as a Bitcoin wallet.
    for (const xpub of [
      DEV_EVM_XPUB,
      master.publicExtendedKey,
      master.derive("m/84'/0'").publicExtendedKey,
    ]) {
      const refused = await add({ scope: 'bitcoin', xpub });
      expect(refused.status, JSON.stringify(refused.body)).toBe(422);
      expect(refused.body.error.code).toBe('invalid_xpub');
      expect(refused.body.error.details.issues).toHaveLength(1);
      expect(refused.body.error.details.issues[0].path).toBe('xpub');
      expect(refused.body.error.details.issues[0].message).toMatch(/account key \(depth 3, m\/purpose'/);
      expect(refused.body.error.details.issues[0].message).toMatch(/master_fingerprint and account_path/);
    }
    expect((await h.request('GET', '/v1/wallets', { token })).body.data).toEqual([]);

    // An account key needs no origin; a key at another path is taken with its origin.
    const account = HDKey.fromMasterSeed(new Uint8Array(32).fill(11), TEST_VERSIONS).derive("m/84'/1'/0'");
    expect((await add({ scope: 'bitcoin-testnet', xpub: account.publicExtendedKey })).status).toBe(201);
    const multisig = await add({
      scope: 'bitcoin',
      xpub: master.derive("m/48'/0'/0'/2'").publicExtendedKey,
      master_fingerprint: master.fingerprint.toString(16).padStart(8, '0'),
      account_path: "m/48'/0'/0'/2'",
    });
    expect(multisig.status, JSON.stringify(multisig.body)).toBe(201);
    expect(multisig.body.account_path).toBe("m/48'/0'/0'/2'");
  });

  it("refuses an EVM key that is not the receive-chain key m/44'/60'/0'/0 (depth 4)", async () => {
    const token = await bareMerchant('evm depths');
    const add = (xpub: string) => h.request('POST', '/v1/wallets', { token, body: { scope: 'evm', xpub } });
    const master = HDKey.fromMasterSeed(new Uint8Array(32).fill(12));
    for (const path of ["m/44'/60'/0'", "m/44'/60'/0'/0/0"]) {
      const refused = await add(master.derive(path).publicExtendedKey);
      expect(refused.status, path).toBe(422);
      expect(refused.body.error.code).toBe('invalid_xpub');
      expect(refused.body.error.details.issues[0].path).toBe('xpub');
      expect(refused.body.error.details.issues[0].message).toMatch(/m\/44'\/60'\/0'\/0 \(depth 4\)/);
    }
    expect((await h.request('GET', '/v1/wallets', { token })).body.data).toEqual([]);
    expect((await add(master.derive("m/44'/60'/0'/0").publicExtendedKey)).status).toBe(201);
  });
});
