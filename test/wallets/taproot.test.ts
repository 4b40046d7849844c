/**
 * BIP86 Taproot derivation: the published BIP86 vectors, @scure/btc-signer's p2tr and an
 * independent @noble re-implementation over a few hundred indices each, the native and pure-JS tweak agreeing, and which keys a p2tr wallet
 * accepts.
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bech32m, createBase58check } from '@scure/base';
import { HDKey } from '@scure/bip32';
import { p2tr, TEST_NETWORK } from '@scure/btc-signer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TallyError } from '../../src/core/errors.ts';
import { DEV_REGTEST_TPUB } from '../../src/dev/dev-wallets.ts';
import { nobleTweakAdd, publicKeyTweakAdd } from '../../src/wallets/child-keys.ts';
import {
  addressDeriver,
  bitcoinAddressDeriver,
  taprootAddressDeriver,
  validateWalletKey,
} from '../../src/wallets/families.ts';
import { taprootAddress, taprootOutputKey } from '../../src/wallets/taproot.ts';

/** BIP86's published account key for "abandon … about", m/86'/0'/0'. */
const BIP86_XPUB =
  'xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ';
/** BIP84's published account key for the same mnemonic, m/84'/0'/0'. */
const BIP84_ZPUB =
  'zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs';

const TEST_VERSIONS = { private: 0x04358394, public: 0x043587cf };
/** A BIP86 test-network account (m/86'/1'/0') of a fixed seed, for regtest. */
const account = HDKey.fromMasterSeed(new Uint8Array(32).fill(7), TEST_VERSIONS).derive("m/86'/1'/0'");
const TPUB86 = account.publicExtendedKey;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const b58 = createBase58check(sha256);
function withVersion(key: string, version: number): string {
  const bytes = new Uint8Array(b58.decode(key));
  new DataView(bytes.buffer).setUint32(0, version);
  return b58.encode(bytes);
}

function refusal(run: () => unknown): TallyError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TallyError);
    return error as TallyError;
  }
  throw new Error('expected a refusal');
}

/** BIP86 written out with @noble only: lift_x, tagged hash, point addition, then bech32m. */
function nobleTaprootAddress(hrp: string, internalKey: Uint8Array): string {
  const P = schnorr.utils.lift_x(secp256k1.Point.fromBytes(internalKey).toAffine().x);
  const x = P.toBytes(true).subarray(1);
  const t = BigInt(`0x${hex(schnorr.utils.taggedHash('TapTweak', x))}`);
  const Q = P.add(secp256k1.Point.BASE.multiply(t));
  return bech32m.encode(hrp, [1, ...bech32m.toWords(Q.toBytes(true).subarray(1))]);
}

describe('BIP86 published vectors (abandon … about, account 0)', () => {
  it('derives the first two receive addresses from the account xpub', () => {
    const derive = taprootAddressDeriver(BIP86_XPUB, 'bitcoin');
    expect(derive(0)).toBe('bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr');
    expect(derive(1)).toBe('bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh');
    // The entry point every caller uses picks Taproot from the stored script type…
    expect(addressDeriver('bitcoin', BIP86_XPUB, 'p2tr')(0)).toBe(derive(0));
    // …and P2WPKH from the other, so the script type really is consulted.
    expect(addressDeriver('bitcoin', BIP86_XPUB, 'p2wpkh')(0)).toMatch(/^bc1q/);
  });

  it('has the published internal and output keys for m/86h/0h/0h/0/0 (internal key has odd y)', () => {
    const internal = HDKey.fromExtendedKey(BIP86_XPUB).deriveChild(0).deriveChild(0).publicKey;
    if (!internal) throw new Error('no key');
    expect(hex(internal)).toBe('03cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115');
    expect(hex(taprootOutputKey(internal))).toBe(
      'a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c',
    );
  });

  it('derives the first change address m/86h/0h/0h/1/0 by direct derivation', () => {
    const change = HDKey.fromExtendedKey(BIP86_XPUB).deriveChild(1).deriveChild(0).publicKey;
    if (!change) throw new Error('no key');
    expect(taprootAddress('bc', taprootOutputKey(change))).toBe(
      'bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7',
    );
  });
});

describe('Taproot derivation against an independent implementation', () => {
  it('equals @scure/bip32 + @noble BIP86 for the first 300 regtest receive addresses', () => {
    const derive = addressDeriver('bitcoin-regtest', TPUB86, 'p2tr');
    const receive = HDKey.fromExtendedKey(TPUB86, TEST_VERSIONS).deriveChild(0);
    for (let i = 0; i < 300; i++) {
      const key = receive.deriveChild(i).publicKey;
      if (!key) throw new Error('no key');
      expect(derive(i), `index ${i}`).toBe(nobleTaprootAddress('bcrt', key));
    }
  });

  it("equals @scure/btc-signer's p2tr (key path only) for the first 300 regtest receive addresses", () => {
    const derive = addressDeriver('bitcoin-regtest', TPUB86, 'p2tr');
    const receive = HDKey.fromExtendedKey(TPUB86, TEST_VERSIONS).deriveChild(0);
    const regtest = { ...TEST_NETWORK, bech32: 'bcrt' };
    for (let i = 0; i < 300; i++) {
      const key = receive.deriveChild(i).publicKey;
      if (!key) throw new Error('no key');
      expect(derive(i), `index ${i}`).toBe(p2tr(key.subarray(1), undefined, regtest).address);
    }
  });

  it('writes witness v1 with a 32-byte program, bech32m, per network prefix', () => {
    for (const [network, hrp] of [
      ['bitcoin-regtest', 'bcrt'],
      ['bitcoin-testnet', 'tb'],
    ] as const) {
      const address = taprootAddressDeriver(TPUB86, network)(5);
      const decoded = bech32m.decode(address as `${string}1${string}`);
      expect(decoded.prefix).toBe(hrp);
      expect(decoded.words[0]).toBe(1);
      expect(bech32m.fromWords(decoded.words.slice(1))).toHaveLength(32);
    }
  });

  it('the native tweak equals the pure-JS one for random keys and tweaks (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((s) => s.some((b) => b !== 0)),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (secret, tweak) => {
          let key: Uint8Array;
          try {
            key = secp256k1.getPublicKey(secret, true);
          } catch {
            return; // a secret ≥ n is not a key; nothing to compare
          }
          let native: string;
          try {
            native = hex(publicKeyTweakAdd(key, tweak));
          } catch {
            expect(() => nobleTweakAdd(key, tweak)).toThrow(); // tweak ≥ n: both refuse
            return;
          }
          expect(native).toBe(hex(nobleTweakAdd(key, tweak)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a tweak of n or more instead of reducing it (BIP341: fail if t ≥ n)', () => {
    const key = secp256k1.getPublicKey(new Uint8Array(32).fill(1), true);
    const n = Buffer.from(secp256k1.Point.CURVE().n.toString(16), 'hex');
    expect(() => publicKeyTweakAdd(key, n)).toThrow();
    expect(() => nobleTweakAdd(key, n)).toThrow();
  });
});

describe('which keys a Taproot wallet accepts', () => {
  it('accepts xpub/tpub keys per the network, storing p2tr', () => {
    expect(validateWalletKey('bitcoin', BIP86_XPUB, 'p2tr')).toEqual({
      family: 'bitcoin',
      scriptType: 'p2tr',
    });
    expect(validateWalletKey('bitcoin-regtest', TPUB86, 'p2tr')).toEqual({
      family: 'bitcoin',
      scriptType: 'p2tr',
    });
    // Without a script type a Bitcoin wallet stays BIP84.
    expect(validateWalletKey('bitcoin-regtest', TPUB86)).toEqual({ family: 'bitcoin', scriptType: 'p2wpkh' });
    expect(codeOf(() => validateWalletKey('bitcoin-regtest', BIP86_XPUB, 'p2tr'))).toBe('invalid_xpub');
  });

  it.each([
    ['zpub', 'bitcoin', BIP84_ZPUB],
    ['vpub', 'bitcoin-regtest', withVersion(TPUB86, 0x045f1cf6)],
  ])('refuses a %s for p2tr, naming the xpub field and BIP84', (prefix, scope, key) => {
    expect(key.startsWith(prefix)).toBe(true);
    const error = refusal(() => validateWalletKey(scope, key, 'p2tr'));
    expect(error.code).toBe('invalid_xpub');
    expect(error.message).toContain('BIP84');
    expect(error.message).toContain('BIP86');
    expect(error.details).toEqual({ issues: [{ path: 'xpub', message: error.message }] });
    // The same key is fine as native SegWit.
    expect(validateWalletKey(scope, key, 'p2wpkh').scriptType).toBe('p2wpkh');
  });

  it('refuses upub keys for native SegWit or Taproot with the P2SH-wrapped message', () => {
    const upub = withVersion(TPUB86, 0x044a5262);
    for (const scriptType of ['p2wpkh', 'p2tr']) {
      const error = refusal(() => validateWalletKey('bitcoin-regtest', upub, scriptType));
      expect(error.code).toBe('invalid_xpub');
      expect(error.message).toContain('P2SH-wrapped SegWit');
    }
  });

  it('refuses unknown script types, and any script type on an EVM wallet, naming script_type', () => {
    for (const [scope, key, scriptType] of [
      ['bitcoin-regtest', TPUB86, 'p2pkh'],
      ['bitcoin-regtest', TPUB86, 'P2TR'],
      ['evm', TPUB86, 'p2tr'],
    ] as const) {
      const error = refusal(() => validateWalletKey(scope, key, scriptType));
      expect(error.code).toBe('validation_failed');
      expect((error.details as { issues: Array<{ path: string }> }).issues[0]?.path).toBe('script_type');
    }
  });

  it('derives nothing for a script type it does not know, rather than guessing', () => {
    expect(() => addressDeriver('bitcoin-regtest', DEV_REGTEST_TPUB, 'p2pkh')).toThrow(TallyError);
    expect(() => addressDeriver('evm', DEV_REGTEST_TPUB, 'p2tr')).toThrow(TallyError);
    // Same key, the two script types: different addresses.
    expect(taprootAddressDeriver(DEV_REGTEST_TPUB, 'bitcoin-regtest')(0)).not.toBe(
      bitcoinAddressDeriver(DEV_REGTEST_TPUB, 'bitcoin-regtest')(0),
    );
  });
});

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return error instanceof TallyError ? error.code : 'other';
  }
  return 'none';
}
