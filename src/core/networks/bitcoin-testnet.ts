import type { NetworkFile } from './types.ts';

export const bitcoinTestnet: NetworkFile = {
  network: {
    id: 'bitcoin-testnet',
    family: 'bitcoin',
    name: 'Bitcoin testnet',
    testnet: true,
    local: false,
    blockTimeSeconds: 600,
    defaultConfirmations: 1,
    finality: { kind: 'blocks' },
  },
  assets: [{ code: 'BTC', name: 'Bitcoin (testnet)', decimals: 8, contract: null }],
};
