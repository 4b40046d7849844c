import { createHash } from 'node:crypto';
import { bech32m } from '@scure/base';
import { publicKeyTweakAdd } from './child-keys.ts';

/**
 * BIP86 single-key Taproot outputs: the output key is Q = P + int(hashTapTweak(x(P)))·G, P being the
 * internal key lifted to even y, with no script tree (BIP341 with an empty merkle root, so there is
 * no script path a co-signer could have hidden). The address is Q's x coordinate as a witness v1
 * program, bech32m-encoded (BIP350).
 */

/** sha256("TapTweak") twice: the BIP340 tagged-hash prefix, computed once rather than per address. */
const TAP_TWEAK_PREFIX = (() => {
  const tag = createHash('sha256').update('TapTweak').digest();
  return Buffer.concat([tag, tag]);
})();

/** hashTapTweak(x) for a 32-byte x-only key and no script tree. */
export function tapTweakHash(xOnly: Uint8Array): Uint8Array {
  return createHash('sha256').update(TAP_TWEAK_PREFIX).update(xOnly).digest();
}

type TweakAdd = (publicKey: Uint8Array, tweak: Uint8Array) => Uint8Array;

/**
 * The 32-byte x-only output key for a 33-byte compressed internal key. `tweakAdd` is libsecp256k1
 * when its binding loaded (see child-keys.ts); the benchmark passes the pure-JS one to compare.
 */
export function taprootOutputKey(
  internalKey: Uint8Array,
  tweakAdd: TweakAdd = publicKeyTweakAdd,
): Uint8Array {
  if (internalKey.length !== 33) throw new RangeError('compressed internal key expected');
  const x = internalKey.subarray(1);
  // lift_x: of the two points with this x, BIP340 picks the one with even y, prefix 0x02.
  const evenY = new Uint8Array(33);
  evenY[0] = 0x02;
  evenY.set(x, 1);
  return tweakAdd(evenY, tapTweakHash(x)).subarray(1);
}

/** Witness version 1 with a 32-byte program: bech32m, unlike v0's bech32 (BIP350). */
export function taprootAddress(hrp: string, outputKey: Uint8Array): string {
  return bech32m.encode(hrp, [1, ...bech32m.toWords(outputKey)]);
}
