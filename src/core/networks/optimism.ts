import type { NetworkFile } from './types.ts';

/**
 * OP Mainnet, chain id 10. An OP-stack rollup, final with its L1 batch (the `finalized` tag). USDC.e is the older bridged USDC.
 */
export const optimism: NetworkFile = {
  network: {
    id: 'optimism',
    family: 'evm',
    name: 'OP Mainnet',
    testnet: false,
    local: false,
    chainId: 10,
    blockTimeSeconds: 2,
    defaultConfirmations: 600,
    finality: { kind: 'tag', tag: 'finalized' },
  },
  assets: [
    { code: 'ETH', name: 'Ether (OP)', decimals: 18, contract: null },
    {
      code: 'USDC',
      name: 'USD Coin (Circle, native)',
      decimals: 6,
      contract: '0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85',
    },
    {
      code: 'USDCE',
      name: 'USDC.e (bridged from Ethereum)',
      decimals: 6,
      contract: '0x7F5c764cBc14f9669B88837ca1490cCa17c31607',
      quoteAs: 'USDC',
    },
    { code: 'USDT', name: 'Tether USD', decimals: 6, contract: '0x94b008aA00579c1307B0EF2c499aD98a8ce58e58' },
  ],
};
