import { sha256 } from '@noble/hashes/sha2.js';
import { createBase58check } from '@scure/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { createMerchant } from '../../src/auth/merchants.ts';
import { TallyError } from '../../src/core/errors.ts';
import { DEV_REGTEST_TPUB } from '../../src/dev/dev-wallets.ts';
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
