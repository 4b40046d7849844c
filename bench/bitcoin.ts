import { HDKey } from '@scure/bip32';
import { DEV_REGTEST_TPUB } from '../src/dev/dev-wallets.ts';
import { derivationBackend, nobleTweakAdd, publicChildDeriver } from '../src/wallets/child-keys.ts';
import { bitcoinAddressDeriver, taprootAddressDeriver } from '../src/wallets/families.ts';
import { taprootAddress, taprootOutputKey } from '../src/wallets/taproot.ts';
import { benchBlockMatching } from './block-matching.ts';
import { benchDetectionLatency } from './detection-latency.ts';
import { type Row, row } from './lib.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

function ratePerSecond(work: (i: number) => unknown): number {
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 100; k++) work(n + k);
    n += 100;
  }
  return n / SECONDS;
}

/**
 * Bitcoin benchmarks, each beside a baseline from the same run. Address derivation on one core:
 * BIP84 receive addresses (hash160 and bech32 included) beside @scure/bip32's child derivation
 * alone; BIP86 Taproot addresses (tweak and bech32m included) with the output-key tweak on
 * libsecp256k1 beside the same with the tweak in @noble/curves (the fallback). The key is the dev
 * BIP84 tpub: derivation cost does not depend on which account a key is for. Then block matching
 * against a million watched addresses (block-matching.ts) and the block-to-paid latency against a
 * real btcd (detection-latency.ts).
 */
export async function benchBitcoin(): Promise<Row[]> {
  const derive = bitcoinAddressDeriver(DEV_REGTEST_TPUB, 'bitcoin-regtest');
  const ours = ratePerSecond((i) => derive(i));
  const receive = HDKey.fromExtendedKey(DEV_REGTEST_TPUB, {
    private: 0x04358394,
    public: 0x043587cf,
  }).deriveChild(0);
  const scure = ratePerSecond((i) => receive.deriveChild(i).publicKey);
  const taproot = taprootAddressDeriver(DEV_REGTEST_TPUB, 'bitcoin-regtest');
  const taprootRate = ratePerSecond((i) => taproot(i));
  const child = publicChildDeriver(receive);
  const nobleRate = ratePerSecond((i) => taprootAddress('bcrt', taprootOutputKey(child(i), nobleTweakAdd)));
  const derivation = [
    row(
      `address_derivation_${derivationBackend}`,
      ours,
      'addresses/s',
      'scure_bip32_child_public_keys',
      scure,
      '>= 5000 addresses/s',
      ours >= 5000,
    ),
    row(
      `taproot_address_derivation_${derivationBackend}`,
      taprootRate,
      'addresses/s',
      'taproot_with_noble_tweak',
      nobleRate,
      '>= 5000 addresses/s',
      taprootRate >= 5000,
    ),
  ];
  // Matching first: its heap figures are cleanest before the latency run has allocated anything.
  return [...derivation, ...(await benchBlockMatching()), ...(await benchDetectionLatency())];
}
