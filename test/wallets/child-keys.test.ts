import { HDKey } from '@scure/bip32';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derivationBackend, publicChildDeriver } from '../../src/wallets/child-keys.ts';

const hex = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('hex');

describe('public child derivation', () => {
  it('runs on libsecp256k1 here (the native binding loaded)', () => {
    expect(derivationBackend).toBe('libsecp256k1');
  });

  it('equals @scure/bip32 for random keys and indices (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 0, max: 0x7fffffff }),
        (seed, index) => {
          const parent = HDKey.fromMasterSeed(seed).derive("m/84'/0'/0'/0");
          const neutered = HDKey.fromExtendedKey(parent.publicExtendedKey);
          expect(hex(publicChildDeriver(neutered)(index))).toBe(hex(parent.deriveChild(index).publicKey));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('matches BIP32 test vector 1: m/0H/1 from the m/0H extended public key', () => {
    const m0h = HDKey.fromExtendedKey(
      'xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw',
    );
    const m0h1 = HDKey.fromExtendedKey(
      'xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ',
    );
    expect(hex(publicChildDeriver(m0h)(1))).toBe(hex(m0h1.publicKey));
  });

  it('refuses hardened or invalid indices', () => {
    const key = HDKey.fromExtendedKey(HDKey.fromMasterSeed(new Uint8Array(32).fill(1)).publicExtendedKey);
    const derive = publicChildDeriver(key);
    expect(() => derive(0x80000000)).toThrow(RangeError);
    expect(() => derive(-1)).toThrow(RangeError);
  });
});
