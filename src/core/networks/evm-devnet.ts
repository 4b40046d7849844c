import type { NetworkFile } from './types.ts';

/**
 * Local EVM devnet (anvil), chain id 31337. The local anvil that `npm start` runs in dev mode. Its test USDC and USDT (contracts/TestToken.sol) are
 * the first two contracts anvil's first dev account deploys, so their addresses are fixed.
 */
export const evmDevnet: NetworkFile = {
  network: {
    id: 'evm-devnet',
    family: 'evm',
    name: 'Local EVM devnet (anvil)',
    testnet: true,
    local: true,
    chainId: 31337,
    blockTimeSeconds: 1,
    defaultConfirmations: 1,
    finality: { kind: 'blocks' },
  },
  assets: [
    { code: 'ETH', name: 'Ether (devnet)', decimals: 18, contract: null },
    {
      code: 'USDC',
      name: 'Test USDC (6 decimals, devnet)',
      decimals: 6,
      contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    },
    {
      code: 'USDT',
      name: 'Test USDT (6 decimals, devnet)',
      decimals: 6,
      contract: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
    },
  ],
};
