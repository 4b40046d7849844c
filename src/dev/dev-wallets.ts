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
