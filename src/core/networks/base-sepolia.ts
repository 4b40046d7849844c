import type { NetworkFile } from './types.ts';

/**
 * Base Sepolia (testnet), chain id 84532. The `safe` tag on a testnet: the batch is on L1, not yet finalized there.
 */
export const baseSepolia: NetworkFile = {
  network: {
    id: 'base-sepolia',
    family: 'evm',
    name: 'Base Sepolia (testnet)',
    testnet: true,
    local: false,
    chainId: 84532,
    blockTimeSeconds: 2,
    defaultConfirmations: 60,
    finality: { kind: 'tag', tag: 'safe' },
  },
  assets: [
    { code: 'ETH', name: 'Sepolia ether (Base)', decimals: 18, contract: null },
    {
      code: 'USDC',
      name: 'USD Coin (Circle testnet)',
      decimals: 6,
      contract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
    },
  ],
};
