import type { NetworkFile } from './types.ts';

/**
 * OP Sepolia (testnet), chain id 11155420. The `safe` tag on a testnet.
 */
export const optimismSepolia: NetworkFile = {
  network: {
    id: 'optimism-sepolia',
    family: 'evm',
    name: 'OP Sepolia (testnet)',
    testnet: true,
    local: false,
    chainId: 11155420,
    blockTimeSeconds: 2,
    defaultConfirmations: 60,
    finality: { kind: 'tag', tag: 'safe' },
  },
  assets: [
    { code: 'ETH', name: 'Sepolia ether (OP)', decimals: 18, contract: null },
    {
      code: 'USDC',
      name: 'USD Coin (Circle testnet)',
      decimals: 6,
      contract: '0x5fd84259d66Cd46123540766Be93DFE6D43130D7',
    },
  ],
};
