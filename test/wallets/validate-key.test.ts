import { sha256 } from '@noble/hashes/sha2.js';
import { createBase58check } from '@scure/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('refuses P2SH-wrapped upub keys, whose addresses Tally would not derive', () => {
    const upub = mutate(DEV_REGTEST_TPUB, (b) => new DataView(b.buffer).setUint32(0, 0x044a5262));
    expect(upub.startsWith('upub')).toBe(true);
    expect(codeOf(() => validateWalletKey('bitcoin-regtest', upub))).toBe('invalid_xpub');
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
