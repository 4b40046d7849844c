import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { HDKey } from '@scure/bip32';
import * as btc from '@scure/btc-signer';
import { describe, expect, it } from 'vitest';
import { TallyError } from '../../src/core/errors.ts';
import {
  addressDeriver,
  validateWalletKey,
  wrappedSegwitAddressDeriver,
} from '../../src/wallets/families.ts';
import { REGTEST } from '../helpers/btc-wallet.ts';

/**
 * BIP49 P2SH-wrapped SegWit, what a ypub/upub means: the BIP49 test vector, then agreement with
 * @scure/btc-signer's p2sh(p2wpkh) over many indices, then the prefix rules.
 */
const MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const seed = pbkdf2(sha512, new TextEncoder().encode(MNEMONIC.normalize('NFKD')), 'mnemonic', {
  c: 2048,
  dkLen: 64,
});
const TEST_VERSIONS = { private: 0x04358394, public: 0x043587cf };
const UPUB_VERSIONS = { private: 0x044a4e28, public: 0x044a5262 };
const account = HDKey.fromMasterSeed(seed, TEST_VERSIONS).derive("m/49'/1'/0'");
const tpub = account.publicExtendedKey;
const upub = HDKey.fromMasterSeed(seed, UPUB_VERSIONS).derive("m/49'/1'/0'").publicExtendedKey;

describe('BIP49 P2SH-wrapped SegWit wallets', () => {
  it("derives the BIP49 test vector: m/49'/1'/0'/0/0 of \"abandon … about\" is 2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2", () => {
    expect(upub.startsWith('upub')).toBe(true);
    expect(wrappedSegwitAddressDeriver(tpub, 'bitcoin-testnet')(0)).toBe(
      '2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2',
    );
    expect(addressDeriver('bitcoin-testnet', upub, 'p2sh-p2wpkh')(0)).toBe(
      '2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2',
    );
  });

  it('agrees with @scure/btc-signer p2sh(p2wpkh) for 200 regtest indices', () => {
    const derive = addressDeriver('bitcoin-regtest', tpub, 'p2sh-p2wpkh');
    const receive = account.deriveChild(0);
    for (let i = 0; i < 200; i++) {
      const key = receive.deriveChild(i).publicKey as Uint8Array;
      expect(derive(i), `index ${i}`).toBe(btc.p2sh(btc.p2wpkh(key, REGTEST), REGTEST).address);
    }
  });

  it('a upub defaults to p2sh-p2wpkh and is refused for any other script type, naming the key to give', () => {
    expect(validateWalletKey('bitcoin-regtest', upub)).toEqual({
      family: 'bitcoin',
      scriptType: 'p2sh-p2wpkh',
    });
    for (const scriptType of ['p2wpkh', 'p2tr']) {
      let error: unknown;
      try {
        validateWalletKey('bitcoin-regtest', upub, scriptType);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TallyError);
      expect((error as TallyError).code).toBe('invalid_xpub');
      expect((error as TallyError).message).toContain('BIP49 P2SH-wrapped SegWit');
    }
  });

  it('a plain tpub may be used for p2sh-p2wpkh when asked', () => {
    expect(validateWalletKey('bitcoin-regtest', tpub, 'p2sh-p2wpkh').scriptType).toBe('p2sh-p2wpkh');
    expect(validateWalletKey('bitcoin-regtest', tpub).scriptType).toBe('p2wpkh');
  });
});
