import type { NetworkFile } from './types.ts';

/**
 * Arbitrum Sepolia (testnet), chain id 421614. The `safe` tag on a testnet.
 */
export const arbitrumSepolia: NetworkFile = {
  network: {
    id: 'arbitrum-sepolia',
    family: 'evm',
    name: 'Arbitrum Sepolia (testnet)',
    testnet: true,
    local: false,
    chainId: 421614,
    blockTimeSeconds: 0.25,
    defaultConfirmations: 240,
    finality: { kind: 'tag', tag: 'safe' },
  },
  assets: [
    { code: 'ETH', name: 'Sepolia ether (Arbitrum)', decimals: 18, contract: null },
    {
      code: 'USDC',
      name: 'USD Coin (Circle testnet)',
      decimals: 6,
      contract: '0x75faf114eafb1BDbe2F0316DF893fd58CE46AA4d',
    },
  ],
};
