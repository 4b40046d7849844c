import { keyFingerprint } from '../wallets/extended-key.ts';

/**
 * DEV ONLY. Watch-only keys derived from the public test mnemonic
 * "test test test test test test test test test test test junk" (anvil's default accounts).
 * Anyone can spend from these keys: they exist so `npm start` works with nothing configured.
 * Only the extended PUBLIC keys are here; the gateway never holds the mnemonic.
 */
/** m/84'/1'/0' (BIP84 account, test networks). */
export const DEV_REGTEST_TPUB =
  'tpubDCTawRj1voCsGHoKQopGdxi1UXEfy8eeogsbA7SxDL1j7tvTfwdF6jQNSneAQw5a2x29XY6PWbnKMx68oM7BYoew8eRySvVaLZxkrBzWr4A';

/** m/44'/60'/0'/0 (EVM receive chain); index 0 is anvil's first account 0xf39F…2266. */
export const DEV_EVM_XPUB =
  'xpub6DyUKdwoLWmUJ4Tn9Bbsdtx7B5Ws18mEN19e5HT52ikE53FiUheSQXrZUNPovqfyKmw4579A1Mm3GXXKM39N64uooBfJ4tNAzFsEbodRTx4';

let publicDevKeys: ReadonlySet<string> | undefined;

/**
 * Whether an extended key is one of the keys above: public, so anything paid to its addresses can
 * be taken by anyone. Compared by key material, whatever prefix or header bytes it was pasted with.
 */
export function isPublicDevKey(xpub: string): boolean {
  let known = answers.get(xpub);
  if (known === undefined) {
    publicDevKeys ??= new Set([keyFingerprint(DEV_REGTEST_TPUB), keyFingerprint(DEV_EVM_XPUB)]);
    known = publicDevKeys.has(keyFingerprint(xpub));
    if (answers.size >= MAX_ANSWERS) answers.clear(); // keys offered to `wallet add` pass here too
    answers.set(xpub, known);
  }
  return known;
}

/**
 * Per stored key text: production asks for every mainnet option of every invoice, and a key's
 * fingerprint (base58 decode and a hash) need not be taken each time. One entry per wallet key.
 */
const answers = new Map<string, boolean>();
const MAX_ANSWERS = 1_000;
