import { type BitcoinTx, decodeTransaction, displayHash } from './raw-transaction.ts';

export interface BitcoinBlock {
  hash: string;
  prevHash: string;
  /** The miner's timestamp: up to two hours off, used only to date a payment first seen in a block. */
  time: Date;
  transactions: BitcoinTx[];
}

/** Decodes a serialized block (getblock at verbosity 0): an 80-byte header, then its transactions. */
export function decodeBlockHex(hex: string): BitcoinBlock {
  const bytes = Buffer.from(hex, 'hex');
  if (bytes.length < 81) throw new Error('truncated block');
  const header = bytes.subarray(0, 80);
  const prevHash = Buffer.from(header.subarray(4, 36)).reverse().toString('hex');
  const time = new Date(header.readUInt32LE(68) * 1000);
  let pos = 80;
  const first = bytes[pos++] as number;
  let count = first;
  if (first === 0xfd) {
    count = bytes.readUInt16LE(pos);
    pos += 2;
  } else if (first === 0xfe) {
    count = bytes.readUInt32LE(pos);
    pos += 4;
  } else if (first === 0xff) throw new Error('implausible transaction count');
  const transactions: BitcoinTx[] = [];
  for (let i = 0; i < count; i++) {
    const { tx, end } = decodeTransaction(bytes, pos);
    transactions.push(tx);
    pos = end;
  }
  if (pos !== bytes.length) throw new Error('trailing bytes after block');
  return { hash: displayHash(header), prevHash, time, transactions };
}
