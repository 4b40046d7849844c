import type { NetworkFile } from './types.ts';

/**
 * Ethereum Sepolia (testnet), chain id 11155111. Same finality as Ethereum: the `finalized` tag.
 */
export const sepolia: NetworkFile = {
  network: {
    id: 'sepolia',
    family: 'evm',
    name: 'Ethereum Sepolia (testnet)',
    testnet: true,
    local: false,
    chainId: 11155111,
    blockTimeSeconds: 12,
    defaultConfirmations: 12,
    finality: { kind: 'tag', tag: 'finalized' },
  },
  assets: [
    { code: 'ETH', name: 'Sepolia ether', decimals: 18, contract: null },
    {
      code: 'USDC',
      name: 'USD Coin (Circle testnet)',
      decimals: 6,
      contract: '0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238',
    },
  ],
};
