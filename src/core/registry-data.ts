/**
 * The one list of networks and assets Tally knows. Nothing else in the code base lists them:
 * adding a network or a token is a line here (the chain issues grow this into one file per network).
 * Token contracts are the issuers' canonical deployments; only allow-listed contracts ever credit.
 */
import type { AssetDefinition, NetworkDefinition } from './registry.ts';

export const NETWORKS: readonly NetworkDefinition[] = [
  {
    id: 'bitcoin',
    family: 'bitcoin',
    name: 'Bitcoin',
    testnet: false,
    blockTimeSeconds: 600,
    defaultConfirmations: 3,
  },
  {
    id: 'bitcoin-testnet',
    family: 'bitcoin',
    name: 'Bitcoin testnet',
    testnet: true,
    blockTimeSeconds: 600,
    defaultConfirmations: 1,
  },
  {
    id: 'bitcoin-regtest',
    family: 'bitcoin',
    name: 'Bitcoin regtest',
    testnet: true,
    blockTimeSeconds: 1,
    defaultConfirmations: 1,
  },
  {
    id: 'ethereum',
    family: 'evm',
    name: 'Ethereum',
    testnet: false,
    chainId: 1,
    blockTimeSeconds: 12,
    defaultConfirmations: 12,
  },
  {
    id: 'polygon',
    family: 'evm',
    name: 'Polygon PoS',
    testnet: false,
    chainId: 137,
    blockTimeSeconds: 2,
    defaultConfirmations: 64,
  },
  {
    id: 'evm-devnet',
    family: 'evm',
    name: 'Local EVM devnet (anvil)',
    testnet: true,
    chainId: 31337,
    blockTimeSeconds: 1,
    defaultConfirmations: 1,
  },
];

export const ASSETS: readonly AssetDefinition[] = [
  { code: 'BTC', network: 'bitcoin', decimals: 8, contract: null },
  { code: 'BTC', network: 'bitcoin-testnet', decimals: 8, contract: null },
  { code: 'BTC', network: 'bitcoin-regtest', decimals: 8, contract: null },
  { code: 'ETH', network: 'ethereum', decimals: 18, contract: null },
  { code: 'USDC', network: 'ethereum', decimals: 6, contract: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48' },
  { code: 'USDT', network: 'ethereum', decimals: 6, contract: '0xdAC17F958D2ee523a2206206994597C13D831ec7' },
  { code: 'POL', network: 'polygon', decimals: 18, contract: null },
  { code: 'USDC', network: 'polygon', decimals: 6, contract: '0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359' },
  { code: 'USDT', network: 'polygon', decimals: 6, contract: '0xc2132D05D31c914a87C6611C10748AEb04B58e8F' },
  { code: 'ETH', network: 'evm-devnet', decimals: 18, contract: null },
];

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
