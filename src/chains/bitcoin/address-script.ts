import { sha256 } from '@noble/hashes/sha2.js';
import { bech32, bech32m, createBase58check } from '@scure/base';

const base58check = createBase58check(sha256);

/** Human-readable parts and base58 version bytes per Bitcoin network id of the registry. */
const FORMATS: Record<string, { hrp: string; p2pkh: number; p2sh: number }> = {
  bitcoin: { hrp: 'bc', p2pkh: 0x00, p2sh: 0x05 },
  'bitcoin-testnet': { hrp: 'tb', p2pkh: 0x6f, p2sh: 0xc4 },
  'bitcoin-regtest': { hrp: 'bcrt', p2pkh: 0x6f, p2sh: 0xc4 },
};

const hex = (bytes: Uint8Array | number[]) => Buffer.from(bytes).toString('hex');

/**
 * The scriptPubKey (hex) an address pays to, validated for `network`. The watcher matches outputs
 * by script, so an address is converted once when it is watched, not for every output of a block.
 * Throws on an address of another network or a malformed one.
 */
export function scriptForAddress(address: string, network: string): string {
  const format = FORMATS[network];
  if (!format) throw new Error(`not a Bitcoin network: ${network}`);
  const lower = address.toLowerCase();
  if (lower.startsWith(`${format.hrp}1`)) {
    const decoded = lower.startsWith(`${format.hrp}1p`)
      ? bech32m.decode(lower as `${string}1${string}`)
      : bech32.decode(lower as `${string}1${string}`);
    if (decoded.prefix !== format.hrp) throw new Error(`address ${address} is not for ${network}`);
    const [version, ...words] = decoded.words;
    if (version === undefined || version > 16) throw new Error(`bad witness version in ${address}`);
    const program = bech32.fromWords(words);
    const opcode = version === 0 ? 0x00 : 0x50 + version;
    return hex([opcode, program.length, ...program]);
  }
  const payload = base58check.decode(address);
  const [version, ...hash] = payload;
  if (hash.length !== 20) throw new Error(`bad address ${address}`);
  if (version === format.p2pkh) return hex([0x76, 0xa9, 0x14, ...hash, 0x88, 0xac]);
  if (version === format.p2sh) return hex([0xa9, 0x14, ...hash, 0x87]);
  throw new Error(`address ${address} is not for ${network}`);
}
