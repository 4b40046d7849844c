import { randomFillSync } from 'node:crypto';

/**
 * Prefixed, time-sortable ids ("inv_01jb…"): 48 bits of milliseconds then 80 random bits in
 * Crockford base32, so ids sort by creation time and make stable pagination cursors.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export type IdPrefix =
  | 'mer'
  | 'inv'
  | 'opt'
  | 'pay'
  | 'evt'
  | 'trn'
  | 'exc'
  | 'wal'
  | 'key'
  | 'usr'
  | 'job'
  | 'rte'
  | 'act'
  | 'obs'
  | 'whe'
  | 'whd'
  | 'wha'
  | 'ltx'
  | 'len'
  | 'ref'
  | 'mov'
  | 'stb'
  | 'rec';

let lastTime = 0;
let lastRandom: Uint8Array = new Uint8Array(10);

function encode(time: number, random: Uint8Array): string {
  let out = '';
  let t = time;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  // 80 random bits as 16 base32 digits, most significant first, through a small bit buffer
  // (plain numbers: BigInt arithmetic here was ~1% of invoice-creation CPU).
  let tail = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of random) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      tail += ALPHABET[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  return out + tail;
}

/**
 * Random bytes are drawn 4 KiB at a time and handed out 10 at a time: one call into the CSPRNG per
 * 409 ids instead of one per id (the call's own cost was 1.4% of the main thread under
 * invoice-creation load). Ids are unique, not secret, so a pool in memory is fine.
 */
const POOL = Buffer.alloc(4096);
let poolOffset = POOL.length;

function randomTail(): Uint8Array {
  if (poolOffset + 10 > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const tail = new Uint8Array(POOL.subarray(poolOffset, poolOffset + 10));
  poolOffset += 10;
  return tail;
}

/** Monotonic within a millisecond: the random part is incremented, so ids never sort out of order. */
export function newId(prefix: IdPrefix, now = Date.now()): string {
  if (now <= lastTime) {
    const next = new Uint8Array(lastRandom);
    for (let i = next.length - 1; i >= 0; i--) {
      next[i] = ((next[i] ?? 0) + 1) & 0xff;
      if (next[i] !== 0) break;
    }
    lastRandom = next;
  } else {
    lastTime = now;
    lastRandom = randomTail();
  }
  return `${prefix}_${encode(lastTime, lastRandom)}`;
}

const ID_PATTERN = /^[a-z]{3}_[0-9a-hjkmnp-tv-z]{26}$/;

export function isId(value: string, prefix: IdPrefix): boolean {
  return value.startsWith(`${prefix}_`) && ID_PATTERN.test(value);
}

/** The smallest id of `prefix` created at or after `time`: a lower bound for "created since" range scans. */
export function idFloor(prefix: IdPrefix, time: number): string {
  return `${prefix}_${encode(Math.max(0, time), new Uint8Array(10))}`;
}
