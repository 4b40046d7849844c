import type { NetworkFile } from './types.ts';

/**
 * Base, chain id 8453. An OP-stack rollup: a block is final once the L1 batch containing it is finalized on Ethereum
 * (the node's `finalized` tag, roughly 20 minutes). USDbC is the older bridged USDC.
 */
export const base: NetworkFile = {
  network: {
    id: 'base',
    family: 'evm',
    name: 'Base',
    testnet: false,
    local: false,
    chainId: 8453,
    blockTimeSeconds: 2,
    defaultConfirmations: 600,
    finality: { kind: 'tag', tag: 'finalized' },
  },
  assets: [
    { code: 'ETH', name: 'Ether (Base)', decimals: 18, contract: null },
    {
      code: 'USDC',
      name: 'USD Coin (Circle, native)',
      decimals: 6,
      contract: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
    },
    {
      code: 'USDBC',
      name: 'USDbC (bridged from Ethereum)',
      decimals: 6,
      contract: '0xd9aAEc86B65D86f6A7B5B1b0c42FFA531710b6CA',
      quoteAs: 'USDC',
    },
  ],
};
