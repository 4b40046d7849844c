import type { NetworkFile } from './types.ts';

/**
 * Polygon PoS, chain id 137. A block count: Polygon PoS has reorganised dozens of blocks deep in the past, and a count is what
 * support can explain. Native USDC and the older bridged USDC.e are different contracts; both credit.
 */
export const polygon: NetworkFile = {
  network: {
    id: 'polygon',
    family: 'evm',
    name: 'Polygon PoS',
    testnet: false,
    local: false,
    chainId: 137,
    blockTimeSeconds: 2,
    defaultConfirmations: 64,
    finality: { kind: 'blocks' },
  },
  assets: [
    { code: 'POL', name: 'POL', decimals: 18, contract: null },
    {
      code: 'USDC',
      name: 'USD Coin (Circle, native)',
      decimals: 6,
      contract: '0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359',
    },
    {
      code: 'USDCE',
      name: 'USDC.e (bridged from Ethereum)',
      decimals: 6,
      contract: '0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174',
      quoteAs: 'USDC',
    },
    {
      code: 'USDT',
      name: 'Tether USD (PoS bridge)',
      decimals: 6,
      contract: '0xc2132D05D31c914a87C6611C10748AEb04B58e8F',
    },
  ],
};
