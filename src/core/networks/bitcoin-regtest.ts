import type { NetworkFile } from './types.ts';

export const bitcoinRegtest: NetworkFile = {
  network: {
    id: 'bitcoin-regtest',
    family: 'bitcoin',
    name: 'Bitcoin regtest',
    testnet: true,
    local: true,
    blockTimeSeconds: 1,
    defaultConfirmations: 1,
    finality: { kind: 'blocks' },
  },
  assets: [{ code: 'BTC', name: 'Bitcoin (regtest)', decimals: 8, contract: null }],
};
