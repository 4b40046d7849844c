import { TallyError } from '../core/errors.ts';
import { hdKey } from './families.ts';

/**
 * Where a wallet's account key sits below the signer's master key (BIP32 key origin, as in a
 * descriptor's `[d34db33f/84'/1'/0']tpub…`). A PSBT's bip32 derivations must name the *master*
 * key's fingerprint and the full path from it: that is what Bitcoin Core, Sparrow and hardware
 * wallets match against their seed. Without an origin Tally can only write the account key's own
 * fingerprint and the path below it, which a signer holding the account key signs but a real
 * wallet does not recognise.
 */
export interface KeyOrigin {
  /** The master key's fingerprint as BIP32 defines it (first 4 bytes of HASH160 of its public key). */
  fingerprint: number;
  /** The account key's path from the master, hardened indexes with their 2^31 offset. */
  path: number[];
}

const HARDENED = 0x8000_0000;

/** The stored, normalised form: 8 lowercase hex digits and `m/84'/1'/0'`. */
export interface KeyOriginFields {
  master_fingerprint: string;
  account_path: string;
}

/**
 * Validates the two optional request fields against the key they describe; both or neither. The
 * path must be as deep as the xpub and end at the xpub's own child number (a path to another key
 * would put wrong derivations in every PSBT); at depth 1 the xpub's parent is the master, so its
 * recorded parent fingerprint must be the one given. Errors name the field.
 */
export function validateKeyOrigin(
  xpub: string,
  input: { master_fingerprint?: string | undefined; account_path?: string | undefined },
  family: string,
): KeyOriginFields | null {
  const { master_fingerprint: fingerprint, account_path: path } = input;
  if (fingerprint === undefined && path === undefined) return null;
  if (family !== 'bitcoin') throw invalid('master_fingerprint', 'is only for Bitcoin wallets');
  if (fingerprint === undefined) throw invalid('master_fingerprint', 'is required with account_path');
  if (path === undefined) throw invalid('account_path', 'is required with master_fingerprint');
  if (!/^[0-9a-fA-F]{8}$/.test(fingerprint))
    throw invalid('master_fingerprint', 'must be 8 hexadecimal digits, such as "d34db33f"');
  const indexes = parsePath(path);
  const key = hdKey(xpub);
  if (indexes.length !== key.depth)
    throw invalid('account_path', `must have ${key.depth} steps: the key is at depth ${key.depth}`);
  if (indexes[indexes.length - 1] !== key.index)
    throw invalid('account_path', `must end at the key's own index ${formatIndex(key.index)}`);
  const master = Number.parseInt(fingerprint, 16) >>> 0;
  if (key.depth === 1 && key.parentFingerprint !== master)
    throw invalid('master_fingerprint', "is not the key's parent (recorded in the xpub)");
  return { master_fingerprint: fingerprint.toLowerCase(), account_path: formatPath(indexes) };
}

/** The stored columns as the PSBT builder wants them; null when the wallet has no origin. */
export function keyOriginOf(row: {
  master_fingerprint: string | null;
  account_path: string | null;
}): KeyOrigin | null {
  if (row.master_fingerprint === null || row.account_path === null) return null;
  return {
    fingerprint: Number.parseInt(row.master_fingerprint, 16) >>> 0,
    path: parsePath(row.account_path),
  };
}

/** `m/84'/1'/0'` (also `h`/`H` for hardened, as descriptors write it) → indexes with the offset. */
function parsePath(path: string): number[] {
  const match = /^m((?:\/[0-9]{1,10}['hH]?){1,10})$/.exec(path.trim());
  if (!match?.[1]) throw invalid('account_path', `must be a BIP32 path such as "m/84'/0'/0'"`);
  return match[1]
    .slice(1)
    .split('/')
    .map((step) => {
      const hardened = /['hH]$/.test(step);
      const n = Number(hardened ? step.slice(0, -1) : step);
      if (n >= HARDENED) throw invalid('account_path', `index ${n} is above 2^31 - 1`);
      return hardened ? n + HARDENED : n;
    });
}

function formatIndex(i: number): string {
  return i >= HARDENED ? `${i - HARDENED}'` : String(i);
}

function formatPath(indexes: number[]): string {
  return `m/${indexes.map(formatIndex).join('/')}`;
}

function invalid(path: string, message: string): TallyError {
  return new TallyError('validation_failed', `${path} ${message}.`, { issues: [{ path, message }] });
}
