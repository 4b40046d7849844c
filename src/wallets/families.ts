import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bech32, createBase58check } from '@scure/base';
import { HDKey } from '@scure/bip32';
import { TallyError, validationError } from '../core/errors.ts';
import { getNetwork } from '../core/registry.ts';
import { publicChildDeriver, uncompressed } from './child-keys.ts';
import { parseExtendedPublicKey } from './extended-key.ts';
import { taprootAddress, taprootOutputKey } from './taproot.ts';

/**
 * Wallet families. A Bitcoin wallet serves one network (its xpub version says mainnet or test);
 * one EVM wallet serves every EVM network, so the same index is the same address on every chain.
 * A wallet's `scope` is that: a Bitcoin network id, or "evm".
 */
export type WalletFamily = 'bitcoin' | 'evm';

const HRP: Record<string, string> = { bitcoin: 'bc', 'bitcoin-testnet': 'tb', 'bitcoin-regtest': 'bcrt' };

/** The wallet scope that pays a network, e.g. "bitcoin-regtest" or "evm". */
export function scopeOfNetwork(network: string): string {
  const net = getNetwork(network);
  return net.family === 'evm' ? 'evm' : net.id;
}

/**
 * How a Bitcoin wallet's keys become addresses: BIP84 native SegWit (the default, what zpub/vpub
 * keys mean), BIP86 Taproot, or BIP49 P2SH-wrapped SegWit (what ypub/upub keys mean). The wallet
 * row stores it; EVM wallets store "evm".
 */
export const BITCOIN_SCRIPT_TYPES = ['p2wpkh', 'p2tr', 'p2sh-p2wpkh'] as const;

/**
 * SLIP-132 prefixes name the script type the owner's wallet scans; deriving any other type would
 * pay addresses that wallet never looks at. xpub/tpub say nothing, so any type is accepted.
 */
const PREFIX_SCRIPT_TYPE: Record<string, { scriptType: BitcoinScriptType; bip: string }> = {
  zpub: { scriptType: 'p2wpkh', bip: 'BIP84 native SegWit' },
  vpub: { scriptType: 'p2wpkh', bip: 'BIP84 native SegWit' },
  ypub: { scriptType: 'p2sh-p2wpkh', bip: 'BIP49 P2SH-wrapped SegWit' },
  upub: { scriptType: 'p2sh-p2wpkh', bip: 'BIP49 P2SH-wrapped SegWit' },
};
export type BitcoinScriptType = (typeof BITCOIN_SCRIPT_TYPES)[number];

/**
 * Validates that `xpub` fits the scope and the requested script type (Bitcoin only; p2wpkh when
 * omitted); returns the family and script type to store.
 */
export function validateWalletKey(
  scope: string,
  xpub: string,
  requestedScriptType?: string,
): { family: WalletFamily; scriptType: string } {
  const parsed = parseExtendedPublicKey(xpub);
  let result: { family: WalletFamily; scriptType: string } = { family: 'evm', scriptType: 'evm' };
  if (scope === 'evm') {
    if (requestedScriptType !== undefined) {
      throw validationError([{ path: 'script_type', message: 'applies to Bitcoin wallets only' }]);
    }
  } else {
    const net = getNetwork(scope);
    if (net.family !== 'bitcoin') throw mismatch(`unknown wallet scope ${scope}`);
    const implied = PREFIX_SCRIPT_TYPE[parsed.prefix];
    const scriptType = requestedScriptType ?? implied?.scriptType ?? 'p2wpkh';
    if (!isBitcoinScriptType(scriptType)) {
      throw validationError([
        { path: 'script_type', message: `must be one of ${BITCOIN_SCRIPT_TYPES.join(', ')}` },
      ]);
    }
    if (parsed.testnet !== net.testnet) {
      throw mismatch(`a ${parsed.testnet ? 'test-network' : 'mainnet'} key cannot serve ${net.name}`);
    }
    if (implied && implied.scriptType !== scriptType) {
      const plain = net.testnet ? 'tpub' : 'xpub';
      const purpose = scriptType === 'p2tr' ? 86 : scriptType === 'p2wpkh' ? 84 : 49;
      throw mismatch(
        `${parsed.prefix} keys are ${implied.bip} account keys (script_type ${implied.scriptType}); for script_type ${scriptType} give the BIP${purpose} account key (m/${purpose}'/${net.testnet ? 1 : 0}'/account') as an ${plain}`,
      );
    }
    result = { family: 'bitcoin', scriptType };
  }
  // Derive once now: a key whose point is not on the curve is refused here, not at the first invoice.
  try {
    addressDeriver(scope, xpub, result.scriptType)(0);
  } catch {
    throw mismatch('is not a valid extended public key (its public key is not a curve point)');
  }
  return result;
}

/**
 * The depth of the key each family derives from. A Bitcoin wallet takes the account key,
 * m/purpose'/coin'/account' (depth 3), the key BIP44/49/84/86 wallets export and scan below
 * (receive addresses /0/i); a key at another depth derives addresses the owner's wallet never
 * looks at, so it is taken only with a key origin (`master_fingerprint` and `account_path`, checked
 * against the key in key-origin.ts), which says on purpose where it sits. An EVM wallet takes the
 * receive-chain key m/44'/60'/0'/0 (depth 4), whose children /i are the addresses MetaMask and
 * other BIP44 wallets use; EVM wallets take no key origin, so that depth is always required.
 */
export const WALLET_KEY_DEPTH: Record<WalletFamily, number> = { bitcoin: 3, evm: 4 };

/** Refuses a key at a depth its family does not derive from (see WALLET_KEY_DEPTH), naming `xpub`. */
export function checkKeyDepth(xpub: string, family: WalletFamily, hasOrigin: boolean): void {
  const depth = parseExtendedPublicKey(xpub).depth;
  if (depth === WALLET_KEY_DEPTH[family] || (family === 'bitcoin' && hasOrigin)) return;
  throw mismatch(
    family === 'bitcoin'
      ? `is a depth-${depth} key; a Bitcoin wallet takes the account key (depth 3, m/purpose'/coin'/account', such as m/84'/0'/0'), the key wallet software exports and scans addresses below. To watch a key at another path, send its key origin too (master_fingerprint and account_path)`
      : `is a depth-${depth} key; an EVM wallet takes the key at m/44'/60'/0'/0 (depth 4), whose children are the addresses MetaMask and other BIP44 wallets use`,
  );
}

function isBitcoinScriptType(value: string): value is BitcoinScriptType {
  return (BITCOIN_SCRIPT_TYPES as readonly string[]).includes(value);
}

/**
 * A function from index to address for a wallet: its scope, key and stored script type. The
 * script type is required on purpose: a Taproot wallet derived as P2WPKH would hand out addresses
 * its owner never sees, so an unknown or mismatched one throws instead of guessing.
 */
export function addressDeriver(scope: string, xpub: string, scriptType: string): (index: number) => string {
  if (scope === 'evm') {
    if (scriptType !== 'evm') throw new TallyError('internal', `EVM wallet with script type ${scriptType}`);
    return evmAddressDeriver(xpub);
  }
  if (scriptType === 'p2wpkh') return bitcoinAddressDeriver(xpub, scope);
  if (scriptType === 'p2tr') return taprootAddressDeriver(xpub, scope);
  if (scriptType === 'p2sh-p2wpkh') return wrappedSegwitAddressDeriver(xpub, scope);
  throw new TallyError('internal', `No derivation for Bitcoin script type ${scriptType}`);
}

function hrpOf(network: string): string {
  const hrp = HRP[network];
  if (!hrp) throw new TallyError('unsupported_asset', `No address format for ${network}.`);
  return hrp;
}

/** BIP84 native SegWit: the xpub is the account key m/84'/coin'/account'; receive addresses are /0/i. */
export function bitcoinAddressDeriver(xpub: string, network: string): (index: number) => string {
  const hrp = hrpOf(network);
  const child = publicChildDeriver(hdKey(xpub).deriveChild(0));
  return (index) => {
    const program = ripemd160(sha256(child(index)));
    return bech32.encode(hrp, [0, ...bech32.toWords(program)]);
  };
}

const P2SH_VERSION: Record<string, number> = {
  bitcoin: 0x05,
  'bitcoin-testnet': 0xc4,
  'bitcoin-regtest': 0xc4,
};
const base58check = createBase58check(sha256);

/**
 * BIP49 P2SH-wrapped SegWit: the xpub is the account key m/49'/coin'/account'; receive addresses
 * are /0/i, paying the P2SH hash of the redeem script `0 <hash160(pubkey)>`.
 */
export function wrappedSegwitAddressDeriver(xpub: string, network: string): (index: number) => string {
  const version = P2SH_VERSION[network];
  if (version === undefined) throw new TallyError('unsupported_asset', `No address format for ${network}.`);
  const child = publicChildDeriver(hdKey(xpub).deriveChild(0));
  return (index) => {
    const redeemScript = new Uint8Array([0x00, 0x14, ...ripemd160(sha256(child(index)))]);
    return base58check.encode(new Uint8Array([version, ...ripemd160(sha256(redeemScript))]));
  };
}

/** BIP86 Taproot: the xpub is the account key m/86'/coin'/account'; receive addresses are /0/i. */
export function taprootAddressDeriver(xpub: string, network: string): (index: number) => string {
  const hrp = hrpOf(network);
  const child = publicChildDeriver(hdKey(xpub).deriveChild(0));
  return (index) => taprootAddress(hrp, taprootOutputKey(child(index)));
}

/** EVM: the xpub is m/44'/60'/0'/0 and addresses are its children /i, EIP-55 checksummed. */
export function evmAddressDeriver(xpub: string): (index: number) => string {
  const child = publicChildDeriver(hdKey(xpub));
  const toUncompressed = (key: Uint8Array) => secp256k1.Point.fromBytes(key).toBytes(false);
  return (index) => {
    const hash = keccak_256(uncompressed(child(index), toUncompressed).subarray(1));
    return toChecksumAddress(Buffer.from(hash.subarray(12)).toString('hex'));
  };
}

export function toChecksumAddress(hexLower: string): string {
  const hash = Buffer.from(keccak_256(new TextEncoder().encode(hexLower))).toString('hex');
  let out = '0x';
  for (let i = 0; i < hexLower.length; i++) {
    const c = hexLower[i] ?? '';
    out += Number.parseInt(hash[i] ?? '0', 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

const TEST_VERSIONS = { public: 0x043587cf, private: 0x04358394 };

/** @scure/bip32 checks version bytes: test-network keys need the tpub pair. */
export function hdKey(xpub: string): HDKey {
  const parsed = parseExtendedPublicKey(xpub);
  return parsed.testnet
    ? HDKey.fromExtendedKey(parsed.normalized, TEST_VERSIONS)
    : HDKey.fromExtendedKey(parsed.normalized);
}

function mismatch(message: string): TallyError {
  return new TallyError('invalid_xpub', message, { issues: [{ path: 'xpub', message }] });
}
