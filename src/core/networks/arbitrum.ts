import type { NetworkFile } from './types.ts';

/**
 * Arbitrum One, chain id 42161. A rollup finalized with its L1 batch (the `finalized` tag, roughly 20 minutes of 0.25 s blocks).
 * USDC.e is the older bridged USDC.
 */
export const arbitrum: NetworkFile = {
  network: {
    id: 'arbitrum',
    family: 'evm',
    name: 'Arbitrum One',
    testnet: false,
    local: false,
    chainId: 42161,
    blockTimeSeconds: 0.25,
    defaultConfirmations: 4800,
    finality: { kind: 'tag', tag: 'finalized' },
  },
  assets: [
    { code: 'ETH', name: 'Ether (Arbitrum)', decimals: 18, contract: null },
    {
      code: 'USDC',
      name: 'USD Coin (Circle, native)',
      decimals: 6,
      contract: '0xaf88d065e77c8cC2239327C5EDb3A432268e5831',
    },
    {
      code: 'USDCE',
      name: 'USDC.e (bridged from Ethereum)',
      decimals: 6,
      contract: '0xFF970A61A04b1cA14834A43f5dE4533eBDDB5CC8',
      quoteAs: 'USDC',
    },
    { code: 'USDT', name: 'Tether USD', decimals: 6, contract: '0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9' },
  ],
};
