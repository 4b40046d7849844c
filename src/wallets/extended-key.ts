import { sha256 } from '@noble/hashes/sha2.js';
import { createBase58check } from '@scure/base';
import { TallyError } from '../core/errors.ts';

const base58check = createBase58check(sha256);

/** SLIP-132 version bytes. Private versions are listed only so they can be recognised and refused. */
const PUBLIC_VERSIONS = {
  xpub: { version: 0x0488b21e, testnet: false, script: 'p2pkh' },
  ypub: { version: 0x049d7cb2, testnet: false, script: 'p2sh-p2wpkh' },
  zpub: { version: 0x04b24746, testnet: false, script: 'p2wpkh' },
  tpub: { version: 0x043587cf, testnet: true, script: 'p2pkh' },
  upub: { version: 0x044a5262, testnet: true, script: 'p2sh-p2wpkh' },
  vpub: { version: 0x045f1cf6, testnet: true, script: 'p2wpkh' },
} as const;
const PRIVATE_VERSIONS = new Set([0x0488ade4, 0x049d7878, 0x04b2430c, 0x04358394, 0x044a4e28, 0x045f18bc]);
const PRIVATE_PREFIXES = /^(xprv|yprv|zprv|tprv|uprv|vprv|Yprv|Zprv|Uprv|Vprv)/;

export type ExtendedKeyPrefix = keyof typeof PUBLIC_VERSIONS;

export interface ParsedExtendedKey {
  prefix: ExtendedKeyPrefix;
  version: number;
  testnet: boolean;
  depth: number;
  /** The key re-encoded with the standard xpub/tpub version, as @scure/bip32 expects. */
  normalized: string;
}

/**
 * Parses an extended public key and refuses anything secret: extended private keys (by prefix or
 * by version bytes), WIF-looking strings and mnemonics. The error never echoes the input, so a
 * pasted secret is neither stored nor logged.
 */
export function parseExtendedPublicKey(input: string, field = 'xpub'): ParsedExtendedKey {
  const text = input.trim();
  if (looksLikeMnemonic(text) || PRIVATE_PREFIXES.test(text)) throw privateKeyRefused(field);
  let bytes: Uint8Array;
  try {
    bytes = base58check.decode(text);
  } catch {
    throw new TallyError('invalid_xpub', 'Not a valid extended public key (bad base58 checksum).', {
      issues: [{ path: field, message: 'is not a valid extended public key' }],
    });
  }
  if (bytes.length !== 78) {
    if (bytes.length === 33 || bytes.length === 34) throw privateKeyRefused(field); // WIF private key
    throw new TallyError('invalid_xpub', 'Not a valid extended public key (wrong length).', {
      issues: [{ path: field, message: 'is not a valid extended public key' }],
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(0);
  if (PRIVATE_VERSIONS.has(version) || bytes[45] === 0x00) throw privateKeyRefused(field);
  const entry = Object.entries(PUBLIC_VERSIONS).find(([, v]) => v.version === version);
  if (!entry) {
    throw new TallyError('invalid_xpub', 'Unknown extended key version.', {
      issues: [{ path: field, message: 'has an unknown version prefix' }],
    });
  }
  const [prefix, info] = entry as [ExtendedKeyPrefix, (typeof PUBLIC_VERSIONS)[ExtendedKeyPrefix]];
  const normalizedBytes = new Uint8Array(bytes);
  new DataView(normalizedBytes.buffer).setUint32(0, info.testnet ? 0x043587cf : 0x0488b21e);
  return {
    prefix,
    version,
    testnet: info.testnet,
    depth: bytes[4] ?? 0,
    normalized: base58check.encode(normalizedBytes),
  };
}

/**
 * Twelve or more words of letters: a BIP39 phrase in any word list (accented, kana…), however it was
 * capitalised, possibly with a passphrase pasted after it. No extended key contains whitespace.
 */
function looksLikeMnemonic(text: string): boolean {
  return text.split(/\s+/u).filter((w) => /^\p{L}+$/u.test(w)).length >= 12;
}

function privateKeyRefused(field: string): TallyError {
  return new TallyError('private_key_refused', undefined, {
    issues: [{ path: field, message: 'is a private key or seed; only extended public keys are accepted' }],
  });
}

/**
 * A stable identity for the key material: a hash of the chain code and the public key, the only
 * bytes child derivation reads. The prefix (an xpub and a zpub of one account key derive the same
 * addresses), depth, parent fingerprint and child number are left out: a copy of a key with any of
 * those bytes changed still derives the same addresses, so it must count as the same key (a hash of
 * the whole key let another merchant register such a copy and receive this wallet's addresses).
 * Safe to show: it reveals no address.
 */
export function keyFingerprint(input: string): string {
  const bytes = base58check.decode(parseExtendedPublicKey(input).normalized);
  return Buffer.from(sha256(bytes.subarray(KEY_MATERIAL_START)))
    .toString('hex')
    .slice(0, 32);
}

/** Version (4), depth (1), parent fingerprint (4) and child number (4) come before the chain code. */
const KEY_MATERIAL_START = 13;
