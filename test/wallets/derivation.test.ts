/**
 * Address derivation against published vectors (BIP32 test vector 1, BIP84, anvil's accounts,
 * EIP-55), and the extended-key parser's refusal of anything secret.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { createBase58check } from '@scure/base';
import { HDKey } from '@scure/bip32';
import { describe, expect, it } from 'vitest';
import { TallyError } from '../../src/core/errors.ts';
import { DEV_EVM_XPUB, DEV_REGTEST_TPUB } from '../../src/dev/dev-wallets.ts';
import { parseExtendedPublicKey } from '../../src/wallets/extended-key.ts';
import {
  addressDeriver,
  bitcoinAddressDeriver,
  evmAddressDeriver,
  toChecksumAddress,
  validateWalletKey,
} from '../../src/wallets/families.ts';

const base58check = createBase58check(sha256);

/** BIP32 test vector 1 (seed 000102030405060708090a0b0c0d0e0f), as published in the BIP. */
const BIP32_V1 = {
  masterXprv:
    'xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi',
  m0h: 'xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw',
  m0h1: 'xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ',
  m0h12h2:
    'xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV',
  m0h12h21000000000:
    'xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy',
};

/** BIP84's published account key for "abandon … about", m/84'/0'/0'. */
const BIP84_ZPUB =
  'zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs';
const BIP84_MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

/** The EVM address of a compressed secp256k1 public key, lower-case hex without 0x, computed here. */
function evmAddressOf(publicKey: Uint8Array): string {
  const uncompressed = secp256k1.Point.fromBytes(publicKey).toBytes(false);
  return Buffer.from(keccak_256(uncompressed.subarray(1)).subarray(12)).toString('hex');
}

function catchError(fn: () => unknown): TallyError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TallyError);
    return error as TallyError;
  }
  throw new Error('expected the call to throw');
}

/** Everything a caller could see of the error: the HTTP body shape, the error's own JSON and its stack. */
function everythingVisible(error: TallyError): string {
  return [
    JSON.stringify({ error: { code: error.code, message: error.message, details: error.details } }),
    JSON.stringify(error),
    String(error.stack),
  ].join('\n');
}

/** The master key of BIP32 vector 1 re-encoded under another SLIP-132 version (valid checksum). */
function withVersion(extendedKey: string, version: number): string {
  const bytes = new Uint8Array(base58check.decode(extendedKey));
  new DataView(bytes.buffer).setUint32(0, version);
  return base58check.encode(bytes);
}

describe('BIP32 test vector 1, public derivation', () => {
  it('derives m/0H/1 from the m/0H xpub: the same public key as the published m/0H/1 xpub', () => {
    const published = HDKey.fromExtendedKey(BIP32_V1.m0h1).publicKey;
    if (!published) throw new Error('no public key');
    expect(evmAddressDeriver(BIP32_V1.m0h)(1)).toBe(toChecksumAddress(evmAddressOf(published)));
    // Not the same as a neighbouring child: the index really is used.
    expect(evmAddressDeriver(BIP32_V1.m0h)(0)).not.toBe(evmAddressDeriver(BIP32_V1.m0h)(1));
  });

  it('derives m/0H/1/2H/2/1000000000 from the m/0H/1/2H/2 xpub', () => {
    const published = HDKey.fromExtendedKey(BIP32_V1.m0h12h21000000000).publicKey;
    if (!published) throw new Error('no public key');
    expect(evmAddressDeriver(BIP32_V1.m0h12h2)(1_000_000_000)).toBe(
      toChecksumAddress(evmAddressOf(published)),
    );
  });

  it('parses the published xpubs unchanged (xpub normalises to itself)', () => {
    for (const key of [BIP32_V1.m0h, BIP32_V1.m0h1, BIP32_V1.m0h12h2]) {
      const parsed = parseExtendedPublicKey(key);
      expect(parsed.prefix).toBe('xpub');
      expect(parsed.testnet).toBe(false);
      expect(parsed.normalized).toBe(key);
    }
    expect(parseExtendedPublicKey(BIP32_V1.m0h).depth).toBe(1);
    expect(parseExtendedPublicKey(BIP32_V1.m0h12h2).depth).toBe(4);
  });
});

describe('BIP84 published vector', () => {
  it('derives the first two receive addresses of the account zpub', () => {
    const derive = bitcoinAddressDeriver(BIP84_ZPUB, 'bitcoin');
    expect(derive(0)).toBe('bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu');
    expect(derive(1)).toBe('bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g');
    // Through the scope-level entry point as well.
    expect(addressDeriver('bitcoin', BIP84_ZPUB, 'p2wpkh')(0)).toBe(
      'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu',
    );
  });

  it('accepts the zpub for the bitcoin mainnet scope as native SegWit', () => {
    expect(validateWalletKey('bitcoin', BIP84_ZPUB)).toEqual({ family: 'bitcoin', scriptType: 'p2wpkh' });
    const parsed = parseExtendedPublicKey(BIP84_ZPUB);
    expect(parsed).toMatchObject({ prefix: 'zpub', testnet: false, depth: 3 });
    expect(parsed.normalized.startsWith('xpub')).toBe(true);
  });

  it('uses the regtest and testnet human-readable parts for test-network keys', () => {
    expect(bitcoinAddressDeriver(DEV_REGTEST_TPUB, 'bitcoin-regtest')(0)).toMatch(
      /^bcrt1q[02-9ac-hj-np-z]{38}$/,
    );
    const testnet = bitcoinAddressDeriver(DEV_REGTEST_TPUB, 'bitcoin-testnet')(0);
    expect(testnet).toMatch(/^tb1q[02-9ac-hj-np-z]{38}$/);
    // Same key, same witness program: only the prefix (and so the bech32 checksum) differs.
    const regtest = bitcoinAddressDeriver(DEV_REGTEST_TPUB, 'bitcoin-regtest')(0);
    expect(testnet.slice(4, -6)).toBe(regtest.slice(6, -6));
  });
});

describe('EVM derivation', () => {
  it("derives anvil's first accounts from the dev xpub", () => {
    const derive = addressDeriver('evm', DEV_EVM_XPUB, 'evm');
    expect(derive(0)).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    expect(derive(1)).toBe('0x70997970C51812dc3A010C7d01b50e0d17dc79C8');
  });

  it('checksums addresses as EIP-55 specifies (the EIP test vectors)', () => {
    const vectors = [
      '0x52908400098527886E0F7030069857D2E4169EE7',
      '0x8617E340B3D01FA5F11F306F4090FD50E238070D',
      '0xde709f2102306220921060314715629080e2fb77',
      '0x27b1fdb04752bbc536007a920d24acb045561c26',
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
      '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
      '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
    ];
    for (const address of vectors) {
      expect(toChecksumAddress(address.slice(2).toLowerCase())).toBe(address);
    }
  });
});

describe('extended key parsing refuses secrets', () => {
  const privateVersions: Array<[string, number]> = [
    ['xprv', 0x0488ade4],
    ['yprv', 0x049d7878],
    ['zprv', 0x04b2430c],
    ['tprv', 0x04358394],
    ['uprv', 0x044a4e28],
    ['vprv', 0x045f18bc],
  ];

  it.each(privateVersions)('refuses a %s key without echoing it', (prefix, version) => {
    const secret = withVersion(BIP32_V1.masterXprv, version);
    expect(secret.startsWith(prefix)).toBe(true);
    const error = catchError(() => parseExtendedPublicKey(secret));
    expect(error.code).toBe('private_key_refused');
    const visible = everythingVisible(error);
    expect(visible).not.toContain(secret);
    expect(visible).not.toContain(secret.slice(20, 40));
    // Also refused when a wallet is validated for a scope.
    expect(catchError(() => validateWalletKey('bitcoin', secret)).code).toBe('private_key_refused');
  });

  it('refuses private key material behind a public version prefix', () => {
    // xpub version bytes, but key data 0x00 ‖ private key: the prefix reads "xpub" yet it is a secret.
    const disguised = withVersion(BIP32_V1.masterXprv, 0x0488b21e);
    expect(disguised.startsWith('xpub')).toBe(true);
    const error = catchError(() => parseExtendedPublicKey(disguised));
    expect(error.code).toBe('private_key_refused');
    expect(everythingVisible(error)).not.toContain(disguised);
  });

  it.each([
    ['uncompressed mainnet WIF', '5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ'],
    ['compressed mainnet WIF', 'KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617'],
    ['compressed testnet WIF', 'cMahea7zqjxrtgAbB7LSGbcQUr1uX1ojuat9jZodMN87JcbXMTcA'],
  ])('refuses a %s without echoing it', (_name, wif) => {
    const error = catchError(() => parseExtendedPublicKey(wif));
    expect(error.code).toBe('private_key_refused');
    const visible = everythingVisible(error);
    expect(visible).not.toContain(wif);
    expect(visible).not.toContain(wif.slice(10, 30));
  });

  it.each([
    ['a 12-word mnemonic', BIP84_MNEMONIC],
    ['a 12-word mnemonic on several lines', BIP84_MNEMONIC.replaceAll(' ', '\n')],
    ['a 12-word mnemonic with padding', `  ${BIP84_MNEMONIC.replaceAll(' ', '  ')}\n`],
    ['a 24-word mnemonic', `${'zoo '.repeat(23)}wrong`],
    ['a capitalised mnemonic', `A${BIP84_MNEMONIC.slice(1)}`],
    ['an upper-case mnemonic', BIP84_MNEMONIC.toUpperCase()],
    ['a Spanish mnemonic (accented words)', `${'ábaco '.repeat(11)}abierto`],
    ['a Japanese mnemonic (ideographic spaces)', Array(12).fill('あいこくしん').join('\u3000')],
    ['a mnemonic followed by a passphrase', `${BIP84_MNEMONIC}\npassphrase 2024`],
  ])('refuses %s without echoing any word', (_name, mnemonic) => {
    const error = catchError(() => parseExtendedPublicKey(mnemonic));
    expect(error.code).toBe('private_key_refused');
    const visible = everythingVisible(error);
    expect(visible).not.toContain(mnemonic.trim());
    for (const word of new Set(mnemonic.trim().split(/\s+/))) expect(visible).not.toContain(word);
    expect(catchError(() => validateWalletKey('evm', mnemonic)).code).toBe('private_key_refused');
  });

  it('refuses a mainnet key for the bitcoin-regtest scope', () => {
    expect(catchError(() => validateWalletKey('bitcoin-regtest', BIP84_ZPUB)).code).toBe('invalid_xpub');
    expect(catchError(() => validateWalletKey('bitcoin-regtest', BIP32_V1.m0h)).code).toBe('invalid_xpub');
    // …and a test-network key for mainnet; the matching pairs are accepted.
    expect(catchError(() => validateWalletKey('bitcoin', DEV_REGTEST_TPUB)).code).toBe('invalid_xpub');
    expect(validateWalletKey('bitcoin-regtest', DEV_REGTEST_TPUB).family).toBe('bitcoin');
  });

  it('refuses a key with a bad checksum as invalid_xpub, without echoing it', () => {
    const last = BIP84_ZPUB.at(-1);
    const corrupted = `${BIP84_ZPUB.slice(0, -1)}${last === 't' ? 'u' : 't'}`;
    const error = catchError(() => parseExtendedPublicKey(corrupted));
    expect(error.code).toBe('invalid_xpub');
    expect(everythingVisible(error)).not.toContain(corrupted);
    // A single changed character in the middle is caught as well.
    const middle = Math.floor(BIP32_V1.m0h.length / 2);
    const flipped = `${BIP32_V1.m0h.slice(0, middle)}${BIP32_V1.m0h[middle] === 'a' ? 'b' : 'a'}${BIP32_V1.m0h.slice(middle + 1)}`;
    expect(catchError(() => parseExtendedPublicKey(flipped)).code).toBe('invalid_xpub');
    expect(catchError(() => validateWalletKey('bitcoin', corrupted)).code).toBe('invalid_xpub');
  });

  it('refuses garbage and wrong-length payloads as invalid_xpub', () => {
    expect(catchError(() => parseExtendedPublicKey('not a key')).code).toBe('invalid_xpub');
    expect(catchError(() => parseExtendedPublicKey(base58check.encode(new Uint8Array(40)))).code).toBe(
      'invalid_xpub',
    );
  });
});
