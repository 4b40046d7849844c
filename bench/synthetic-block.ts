import { randomBytes, randomInt } from 'node:crypto';
import { bech32 } from '@scure/base';

/**
 * Inputs for the block-matching benchmark, built fast: no key derivation, no proof of work (the
 * decoder checks neither), but byte-for-byte the serialization a node returns for getblock at
 * verbosity 0, so decodeBlockHex does the same work as on a real block of that shape.
 */

/** `count` random 20-byte witness programs as regtest P2WPKH addresses; `programs` is their bytes. */
export function randomWatchedAddresses(count: number): { programs: Buffer; addresses: string[] } {
  const programs = randomBytes(20 * count);
  const addresses = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const words = bech32.toWords(programs.subarray(20 * i, 20 * i + 20));
    // bech32.encode concatenates (a V8 cons string, flattened on first use): rebuilt flat, as a
    // database driver returns it, so heap figures do not move when the watch set reads it.
    addresses[i] = Buffer.from(bech32.encode('bcrt', [0, ...words]), 'latin1').toString('latin1');
  }
  return { programs, addresses };
}

const varint = (n: number): Buffer => {
  if (n < 0xfd) return Buffer.from([n]);
  const b = Buffer.alloc(3);
  b[0] = 0xfd;
  b.writeUInt16LE(n, 1);
  return b;
};

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};

const u64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};

const withLength = (bytes: Buffer): Buffer => Buffer.concat([varint(bytes.length), bytes]);

/**
 * A random output script in roughly today's mix: mostly P2WPKH and P2TR, some P2SH and P2PKH,
 * each of a random key (so none is watched).
 */
function randomScript(): Buffer {
  const roll = randomInt(100);
  if (roll < 55) return Buffer.concat([Buffer.from([0x00, 0x14]), randomBytes(20)]);
  if (roll < 85) return Buffer.concat([Buffer.from([0x51, 0x20]), randomBytes(32)]);
  if (roll < 93) return Buffer.concat([Buffer.from([0xa9, 0x14]), randomBytes(20), Buffer.from([0x87])]);
  return Buffer.concat([Buffer.from([0x76, 0xa9, 0x14]), randomBytes(20), Buffer.from([0x88, 0xac])]);
}

function output(script: Buffer): Buffer {
  return Buffer.concat([u64(BigInt(randomInt(546, 2 ** 40))), withLength(script)]);
}

/** A SegWit spend: 1–2 inputs (P2WPKH witness: 72-byte signature, 33-byte key), the given outputs. */
function spend(outputs: Buffer[]): Buffer {
  const inputCount = randomInt(1, 3);
  const parts: Buffer[] = [u32(2), Buffer.from([0x00, 0x01]), varint(inputCount)];
  for (let i = 0; i < inputCount; i++) {
    parts.push(randomBytes(32), u32(randomInt(4)), varint(0), u32(0xfffffffd));
  }
  parts.push(varint(outputs.length), ...outputs);
  for (let i = 0; i < inputCount; i++) {
    parts.push(varint(2), withLength(randomBytes(72)), withLength(randomBytes(33)));
  }
  parts.push(u32(0));
  return Buffer.concat(parts);
}

function coinbase(outputs: Buffer[]): Buffer {
  return Buffer.concat([
    u32(2),
    varint(1),
    Buffer.alloc(32),
    u32(0xffffffff),
    withLength(Buffer.from([0x03, 0x01, 0x02, 0x03])),
    u32(0xffffffff),
    varint(outputs.length),
    ...outputs,
    u32(0),
  ]);
}

export interface SyntheticBlock {
  hex: string;
  /** Outputs paying a watched program. */
  watched: number;
  /** The first spend alone, for a cross-check against an independent parser. */
  sampleTxHex: string;
}

/**
 * A block of `outputCount` outputs: a coinbase with 2, then spends of 2 outputs each (a payment
 * and change, the common shape); every `1 / watchedShare`-th output pays a random watched program.
 */
export function syntheticBlock(outputCount: number, watchedShare: number, programs: Buffer): SyntheticBlock {
  const every = Math.round(1 / watchedShare);
  const programCount = programs.length / 20;
  const scripts: Buffer[] = [];
  let watched = 0;
  for (let i = 0; i < outputCount; i++) {
    if (i % every === every >> 1) {
      watched += 1;
      const p = randomInt(programCount);
      scripts.push(Buffer.concat([Buffer.from([0x00, 0x14]), programs.subarray(20 * p, 20 * p + 20)]));
    } else scripts.push(randomScript());
  }
  const txs = [coinbase(scripts.slice(0, 2).map(output))];
  for (let i = 2; i < outputCount; i += 2) txs.push(spend(scripts.slice(i, i + 2).map(output)));
  const header = Buffer.concat([
    u32(0x20000000),
    randomBytes(32), // previous block hash
    randomBytes(32), // merkle root: not checked by the decoder
    u32(Math.floor(Date.now() / 1000)),
    u32(0x207fffff),
    u32(0),
  ]);
  const hex = Buffer.concat([header, varint(txs.length), ...txs]).toString('hex');
  return {
    hex,
    watched,
    sampleTxHex: txs[1]!.toString('hex'),
  };
}
