import { sha256 } from '@noble/hashes/sha2.js';

/**
 * A decoder for serialized Bitcoin transactions and blocks. Tally reads raw bytes (getblock at
 * verbosity 0, getrawtransaction non-verbose) rather than the nodes' JSON: amounts arrive as exact
 * 64-bit integers instead of floating-point BTC, and btcd and Bitcoin Core agree on bytes where
 * their verbose JSON differs (btcd lists a block's transactions under `rawtx`, Core under `tx`).
 */
export interface TxInput {
  prevTxid: string;
  prevVout: number;
  sequence: number;
}

export interface TxOutput {
  /** Satoshis. */
  value: bigint;
  /** scriptPubKey as lowercase hex: the key the watch set matches on. */
  script: string;
}

export interface BitcoinTx {
  txid: string;
  inputs: TxInput[];
  outputs: TxOutput[];
  coinbase: boolean;
  /** BIP125: any input with nSequence below 0xfffffffe signals that the sender may replace it. */
  rbf: boolean;
}

const COINBASE_PREV = '0'.repeat(64);

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
  ) {}
  private need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new Error('truncated transaction data');
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.pos++] as number;
  }
  u32(): number {
    this.need(4);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return (
      ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16)) +
      (b[p + 3] as number) * 0x1000000
    );
  }
  u64(): bigint {
    const low = BigInt(this.u32());
    const high = BigInt(this.u32());
    return (high << 32n) | low;
  }
  varint(): number {
    const first = this.u8();
    if (first < 0xfd) return first;
    if (first === 0xfd) return this.u8() | (this.u8() << 8);
    if (first === 0xfe) return this.u32();
    const value = this.u64();
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('varint out of range');
    return Number(value);
  }
  slice(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/** Hash as the RPC interface prints it: double SHA-256, byte-reversed. */
export function displayHash(data: Uint8Array): string {
  return Buffer.from(sha256(sha256(data)))
    .reverse()
    .toString('hex');
}

function reversedHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).reverse().toString('hex');
}

/** Decodes one transaction starting at `offset`; returns it and the offset just past it. */
export function decodeTransaction(bytes: Uint8Array, offset = 0): { tx: BitcoinTx; end: number } {
  const r = new Reader(bytes, offset);
  r.u32(); // version
  let segwit = false;
  if (bytes[r.pos] === 0x00 && bytes[r.pos + 1] === 0x01) {
    // BIP144 marker 0x00 and flag: witness data follows the outputs.
    r.pos += 2;
    segwit = true;
  }
  const afterVersion = r.pos;
  const inputCount = r.varint();
  const inputs: TxInput[] = [];
  for (let i = 0; i < inputCount; i++) {
    const prevTxid = reversedHex(r.slice(32));
    const prevVout = r.u32();
    r.slice(r.varint()); // scriptSig
    inputs.push({ prevTxid, prevVout, sequence: r.u32() });
  }
  const outputCount = r.varint();
  const outputs: TxOutput[] = [];
  for (let i = 0; i < outputCount; i++) {
    const value = r.u64();
    outputs.push({ value, script: Buffer.from(r.slice(r.varint())).toString('hex') });
  }
  const outputsEnd = r.pos;
  if (segwit) {
    for (let i = 0; i < inputCount; i++) {
      const items = r.varint();
      for (let j = 0; j < items; j++) r.slice(r.varint());
    }
  }
  r.u32(); // lock time
  const end = r.pos;
  // The txid commits to the serialization without witness: version, inputs, outputs, lock time.
  const stripped = segwit
    ? Buffer.concat([
        bytes.subarray(offset, offset + 4),
        bytes.subarray(afterVersion, outputsEnd),
        bytes.subarray(end - 4, end),
      ])
    : bytes.subarray(offset, end);
  const coinbase =
    inputs.length === 1 && inputs[0]?.prevTxid === COINBASE_PREV && inputs[0].prevVout === 0xffffffff;
  const rbf = !coinbase && inputs.some((input) => input.sequence < 0xfffffffe);
  return { tx: { txid: displayHash(stripped), inputs, outputs, coinbase, rbf }, end };
}

export function decodeTransactionHex(hex: string): BitcoinTx {
  const bytes = Buffer.from(hex, 'hex');
  const { tx, end } = decodeTransaction(bytes);
  if (end !== bytes.length) throw new Error('trailing bytes after transaction');
  return tx;
}
