import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bech32 } from '@scure/base';
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
 * keys mean) or BIP86 Taproot. The wallet row stores it; EVM wallets store "evm".
 */
export const BITCOIN_SCRIPT_TYPES = ['p2wpkh', 'p2tr'] as const;
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
    const scriptType = requestedScriptType ?? 'p2wpkh';
    if (!isBitcoinScriptType(scriptType)) {
      throw validationError([
        { path: 'script_type', message: `must be one of ${BITCOIN_SCRIPT_TYPES.join(', ')}` },
      ]);
    }
    if (parsed.testnet !== net.testnet) {
      throw mismatch(`a ${parsed.testnet ? 'test-network' : 'mainnet'} key cannot serve ${net.name}`);
    }
    if (parsed.prefix === 'ypub' || parsed.prefix === 'upub') {
      // Addresses are native SegWit (BIP84); a wallet that scans P2SH-wrapped addresses would not see them.
      throw mismatch(
        `${parsed.prefix} keys are P2SH-wrapped SegWit, which Tally does not derive; use a BIP84 zpub/vpub (or xpub/tpub) account key`,
      );
    }
    if (scriptType === 'p2tr' && (parsed.prefix === 'zpub' || parsed.prefix === 'vpub')) {
      // A zpub/vpub is by definition a BIP84 account key (m/84'/…); tweaking it into Taproot outputs
      // would pay addresses the merchant's wallet, scanning m/86'/…, never looks at.
      const plain = net.testnet ? 'tpub' : 'xpub';
      throw mismatch(
        `${parsed.prefix} keys are BIP84 native SegWit account keys; for script_type p2tr give the BIP86 account key (m/86'/${net.testnet ? 1 : 0}'/account') as an ${plain}`,
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
function hdKey(xpub: string): HDKey {
  const parsed = parseExtendedPublicKey(xpub);
  return parsed.testnet
    ? HDKey.fromExtendedKey(parsed.normalized, TEST_VERSIONS)
    : HDKey.fromExtendedKey(parsed.normalized);
}

function mismatch(message: string): TallyError {
  return new TallyError('invalid_xpub', message, { issues: [{ path: 'xpub', message }] });
}
