import type { NetworkFile } from './types.ts';

export const bitcoin: NetworkFile = {
  network: {
    id: 'bitcoin',
    family: 'bitcoin',
    name: 'Bitcoin',
    testnet: false,
    local: false,
    blockTimeSeconds: 600,
    defaultConfirmations: 3,
    finality: { kind: 'blocks' },
  },
  assets: [{ code: 'BTC', name: 'Bitcoin', decimals: 8, contract: null }],
};
