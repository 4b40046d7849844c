/**
 * The one list of networks and assets Tally knows: one data file per network in ./networks/, and
 * one line per network here. Adding a network is its file plus its line; nothing else in the code
 * base lists networks or tokens. Token contracts are the issuers' canonical deployments; only
 * allow-listed contracts ever credit (a token's symbol is never trusted).
 */

import { arbitrum } from './networks/arbitrum.ts';
import { arbitrumSepolia } from './networks/arbitrum-sepolia.ts';
import { base } from './networks/base.ts';
import { baseSepolia } from './networks/base-sepolia.ts';
import { bitcoin } from './networks/bitcoin.ts';
import { bitcoinRegtest } from './networks/bitcoin-regtest.ts';
import { bitcoinTestnet } from './networks/bitcoin-testnet.ts';
import { ethereum } from './networks/ethereum.ts';
import { evmDevnet } from './networks/evm-devnet.ts';
import { optimism } from './networks/optimism.ts';
import { optimismSepolia } from './networks/optimism-sepolia.ts';
import { polygon } from './networks/polygon.ts';
import { polygonAmoy } from './networks/polygon-amoy.ts';
import { sepolia } from './networks/sepolia.ts';
import type { NetworkFile } from './networks/types.ts';
import type { AssetDefinition, NetworkDefinition } from './registry.ts';

const FILES: readonly NetworkFile[] = [
  bitcoin,
  bitcoinTestnet,
  bitcoinRegtest,
  ethereum,
  sepolia,
  polygon,
  polygonAmoy,
  base,
  baseSepolia,
  arbitrum,
  arbitrumSepolia,
  optimism,
  optimismSepolia,
  evmDevnet,
];

export const NETWORKS: readonly NetworkDefinition[] = FILES.map((f) => f.network);

export const ASSETS: readonly AssetDefinition[] = FILES.flatMap((f) =>
  f.assets.map((a) => ({ ...a, network: f.network.id })),
);

/** ISO-4217 currencies accepted as invoice prices, with their minor-unit digits. */
export const FIAT_CURRENCIES: Readonly<Record<string, number>> = {
  USD: 2,
  EUR: 2,
  GBP: 2,
  CHF: 2,
  CAD: 2,
  AUD: 2,
  JPY: 0,
  SEK: 2,
  NOK: 2,
  DKK: 2,
  PLN: 2,
  CZK: 2,
  BRL: 2,
  MXN: 2,
  SGD: 2,
  HKD: 2,
  NZD: 2,
  INR: 2,
  ZAR: 2,
  KWD: 3,
};
