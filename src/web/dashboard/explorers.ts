/**
 * Public block explorers per network, for the timeline's links. Local networks (regtest, devnet)
 * have none. Links leave the dashboard with no referrer (the page's Referrer-Policy).
 */
const TX_URL: Record<string, string> = {
  bitcoin: 'https://mempool.space/tx/',
  'bitcoin-testnet': 'https://mempool.space/testnet/tx/',
  ethereum: 'https://etherscan.io/tx/',
  sepolia: 'https://sepolia.etherscan.io/tx/',
  polygon: 'https://polygonscan.com/tx/',
  'polygon-amoy': 'https://amoy.polygonscan.com/tx/',
  base: 'https://basescan.org/tx/',
  'base-sepolia': 'https://sepolia.basescan.org/tx/',
  arbitrum: 'https://arbiscan.io/tx/',
  'arbitrum-sepolia': 'https://sepolia.arbiscan.io/tx/',
  optimism: 'https://optimistic.etherscan.io/tx/',
  'optimism-sepolia': 'https://sepolia-optimism.etherscan.io/tx/',
};

export function explorerTxUrl(network: string | null, txid: string): string | null {
  const base = network ? TX_URL[network] : undefined;
  return base ? `${base}${encodeURIComponent(txid)}` : null;
}
