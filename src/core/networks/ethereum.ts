import type { NetworkFile } from './types.ts';

/**
 * Ethereum, chain id 1. Finality is the node's `finalized` tag (two epochs, about 13 minutes,
 * 64-95 blocks): a payment never counts 12 deep before the tag covers its block.
 */
export const ethereum: NetworkFile = {
  network: {
    id: 'ethereum',
    family: 'evm',
    name: 'Ethereum',
    testnet: false,
    local: false,
    chainId: 1,
    blockTimeSeconds: 12,
    defaultConfirmations: 12,
    finality: { kind: 'tag', tag: 'finalized' },
  },
  assets: [
    { code: 'ETH', name: 'Ether', decimals: 18, contract: null },
    {
      code: 'USDC',
      name: 'USD Coin (Circle)',
      decimals: 6,
      contract: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48',
    },
    { code: 'USDT', name: 'Tether USD', decimals: 6, contract: '0xdAC17F958D2ee523a2206206994597C13D831ec7' },
  ],
};
