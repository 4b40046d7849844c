import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { HDKey } from '@scure/bip32';

/**
 * Non-hardened BIP32 public child derivation, K_i = K + IL·G with IL from HMAC-SHA512(chain code,
 * K ‖ i). Pure-JS @scure/bip32 managed ~550–900 derivations/s here, too slow to keep address pools
 * full; libsecp256k1 (the `secp256k1` package's prebuilt native binding) does the point arithmetic and
 * node:crypto the HMAC. Equality with @scure/bip32 and the BIP32/BIP84 vectors is tested
 * (test/wallets/derivation.test.ts, test/wallets/child-keys.test.ts). Where the native binding cannot
 * load, derivation falls back to @scure/bip32: slower, never different.
 */
interface NativeSecp256k1 {
  publicKeyTweakAdd(publicKey: Uint8Array, tweak: Uint8Array, compressed?: boolean): Uint8Array;
  publicKeyConvert(publicKey: Uint8Array, compressed?: boolean): Uint8Array;
}

const native: NativeSecp256k1 | null = (() => {
  try {
    // The binding itself, not the package index: that one silently falls back to pure-JS elliptic.
    return createRequire(import.meta.url)('secp256k1/bindings') as NativeSecp256k1;
  } catch {
    return null;
  }
})();

export const derivationBackend: 'libsecp256k1' | '@scure/bip32' = native ? 'libsecp256k1' : '@scure/bip32';

/** Returns i ↦ compressed public key of the non-hardened child i of `parent`. */
export function publicChildDeriver(parent: HDKey): (index: number) => Uint8Array {
  const publicKey = parent.publicKey;
  const chainCode = parent.chainCode;
  if (!publicKey || !chainCode) throw new Error('extended key without public key or chain code');
  if (!native) {
    return (index) => {
      const child = parent.deriveChild(index).publicKey;
      if (!child) throw new Error('derivation produced no public key');
      return child;
    };
  }
  const lib = native;
  const data = Buffer.alloc(37);
  data.set(publicKey, 0);
  return (index) => {
    if (!Number.isInteger(index) || index < 0 || index >= 0x80000000)
      throw new RangeError('non-hardened index expected');
    data.writeUInt32BE(index, 33);
    const I = createHmac('sha512', chainCode).update(data).digest();
    // Throws for IL ≥ n or a point at infinity (probability ~2^-127), as @scure/bip32 does.
    return lib.publicKeyTweakAdd(publicKey, I.subarray(0, 32), true);
  };
}

/**
 * P + t·G for a compressed point P and a 32-byte scalar t, compressed; throws for t ≥ n or a point
 * at infinity. The Taproot output-key tweak (taproot.ts) is this operation, so it gets the same
 * native speed as child derivation.
 */
export function publicKeyTweakAdd(publicKey: Uint8Array, tweak: Uint8Array): Uint8Array {
  return native ? native.publicKeyTweakAdd(publicKey, tweak, true) : nobleTweakAdd(publicKey, tweak);
}

/** The pure-JS fallback of `publicKeyTweakAdd`, exported so tests and the benchmark can compare the two. */
export function nobleTweakAdd(publicKey: Uint8Array, tweak: Uint8Array): Uint8Array {
  const t = BigInt(`0x${Buffer.from(tweak).toString('hex')}`);
  // multiply() refuses t = 0 and t ≥ n; a zero tweak (probability 2^-256) would leave P unchanged.
  const sum =
    t === 0n
      ? secp256k1.Point.fromBytes(publicKey)
      : secp256k1.Point.fromBytes(publicKey).add(secp256k1.Point.BASE.multiply(t));
  return sum.toBytes(true);
}

/** Uncompressed form (65 bytes) of a compressed public key, for EVM addresses. */
export function uncompressed(publicKey: Uint8Array, fallback: (key: Uint8Array) => Uint8Array): Uint8Array {
  return native ? native.publicKeyConvert(publicKey, false) : fallback(publicKey);
}
