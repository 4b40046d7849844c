import type { NetworkFile } from './types.ts';

/**
 * Polygon Amoy (testnet), chain id 80002. Polygon's public testnet; a short block count.
 */
export const polygonAmoy: NetworkFile = {
  network: {
    id: 'polygon-amoy',
    family: 'evm',
    name: 'Polygon Amoy (testnet)',
    testnet: true,
    local: false,
    chainId: 80002,
    blockTimeSeconds: 2,
    defaultConfirmations: 16,
    finality: { kind: 'blocks' },
  },
  assets: [
    { code: 'POL', name: 'POL (Amoy)', decimals: 18, contract: null },
    {
      code: 'USDC',
      name: 'USD Coin (Circle testnet)',
      decimals: 6,
      contract: '0x41E94Eb019C0762f9Bfcf9Fb1E58725BfB0e7582',
    },
  ],
};
