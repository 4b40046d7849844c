import { pbkdf2Sync } from 'node:crypto';
import { HDKey } from '@scure/bip32';
import * as btc from '@scure/btc-signer';
import type { BitcoinRpc } from '../../src/chains/bitcoin/rpc-client.ts';

/**
 * The merchant's signer in tests: the seed behind the harness's first merchant (the public dev
 * mnemonic "test … junk", whose m/84'/1'/0' is DEV_REGTEST_TPUB). The gateway only ever holds the
 * tpub; the test plays the merchant's hardware wallet. BIP39 seed = PBKDF2-SHA512(mnemonic,
 * "mnemonic", 2048), written out so no extra dependency is needed.
 */
const DEV_MNEMONIC = 'test test test test test test test test test test test junk';
const TEST_VERSIONS = { private: 0x04358394, public: 0x043587cf };

export function devAccountKey(): HDKey {
  const seed = pbkdf2Sync(DEV_MNEMONIC.normalize('NFKD'), 'mnemonic', 2048, 64, 'sha512');
  return HDKey.fromMasterSeed(seed, TEST_VERSIONS).derive("m/84'/1'/0'");
}

/**
 * Signs a PSBT the way a hardware wallet would: by the BIP32 derivation the PSBT carries (the
 * account key's fingerprint and the path below it), then finalizes and broadcasts it.
 */
export async function signAndBroadcast(
  rpc: BitcoinRpc,
  psbtBase64: string,
): Promise<{ txid: string; vsize: number; hex: string }> {
  const tx = btc.Transaction.fromPSBT(Buffer.from(psbtBase64, 'base64'));
  // @scure/btc-signer signs with an HDKey by the PSBT's derivation paths; its type wants a non-null key.
  const signed = tx.sign(devAccountKey() as Parameters<typeof tx.sign>[0]);
  if (signed !== tx.inputsLength) throw new Error(`signed ${signed} of ${tx.inputsLength} inputs`);
  tx.finalize();
  const txid = await rpc.call<string>('sendrawtransaction', [tx.hex]);
  return { txid, vsize: tx.vsize, hex: tx.hex };
}

/**
 * btcd's regtest activates SegWit by BIP9 signalling (three 144-block periods), so a fresh chain
 * refuses witness spends until then: mine until getblockchaininfo says active.
 */
export async function activateSegwit(rpc: BitcoinRpc): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const info = await rpc.call<{ bip9_softforks?: Record<string, { status: string }> }>('getblockchaininfo');
    if (info.bip9_softforks?.segwit?.status === 'active') return;
    await rpc.call('generate', [144]);
  }
  throw new Error('SegWit did not activate on the regtest chain');
}
