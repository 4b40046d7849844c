import { HDKey } from '@scure/bip32';
import { DEV_REGTEST_TPUB } from '../src/dev/dev-wallets.ts';
import { derivationBackend } from '../src/wallets/child-keys.ts';
import { bitcoinAddressDeriver } from '../src/wallets/families.ts';
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
 * Bitcoin benchmarks. So far: address derivation (BIP84 receive addresses, hash160 and bech32
 * included) beside @scure/bip32's child derivation alone, both on one core in the same run. The
 * block-matching and detection-latency benchmarks of the Bitcoin issue are not written yet.
 */
export async function benchBitcoin(): Promise<Row[]> {
  const derive = bitcoinAddressDeriver(DEV_REGTEST_TPUB, 'bitcoin-regtest');
  const ours = ratePerSecond((i) => derive(i));
  const receive = HDKey.fromExtendedKey(DEV_REGTEST_TPUB, {
    private: 0x04358394,
    public: 0x043587cf,
  }).deriveChild(0);
  const scure = ratePerSecond((i) => receive.deriveChild(i).publicKey);
  return [
    row(
      `address_derivation_${derivationBackend}`,
      ours,
      'addresses/s',
      'scure_bip32_child_public_keys',
      scure,
      '>= 5000 addresses/s',
      ours >= 5000,
    ),
  ];
}
