import { TallyError } from './errors.ts';
import { ASSETS, FIAT_CURRENCIES, NETWORKS } from './registry-data.ts';

export type ChainFamily = 'bitcoin' | 'evm';

export interface NetworkDefinition {
  id: string;
  family: ChainFamily;
  name: string;
  testnet: boolean;
  chainId?: number;
  blockTimeSeconds: number;
  /** Blocks required when neither a value tier nor a merchant override applies. */
  defaultConfirmations: number;
}

export interface AssetDefinition {
  code: string;
  network: string;
  decimals: number;
  /** Token contract for ERC-20 style assets; null for the network's native coin. */
  contract: string | null;
}

const networksById = new Map(NETWORKS.map((n) => [n.id, n]));
const assetsByKey = new Map(ASSETS.map((a) => [`${a.code}/${a.network}`, a]));

export function listNetworks(): readonly NetworkDefinition[] {
  return NETWORKS;
}

export function listAssets(): readonly AssetDefinition[] {
  return ASSETS;
}

export function findNetwork(id: string): NetworkDefinition | undefined {
  return networksById.get(id);
}

export function getNetwork(id: string): NetworkDefinition {
  const network = networksById.get(id);
  if (!network) throw new TallyError('unsupported_asset', `Unknown network "${id}".`);
  return network;
}

export function findAsset(code: string, network: string): AssetDefinition | undefined {
  return assetsByKey.get(`${code}/${network}`);
}

export function getAsset(code: string, network: string, field = 'asset'): AssetDefinition {
  const asset = findAsset(code, network);
  if (!asset) {
    throw new TallyError('unsupported_asset', `${code} on ${network} is not supported.`, {
      issues: [{ path: field, message: `${code} on ${network} is not supported` }],
    });
  }
  return asset;
}

/** Decimal places of a price currency: ISO-4217 fiat, or a crypto asset code priced directly. */
export function currencyDecimals(currency: string): number | undefined {
  const fiat = FIAT_CURRENCIES[currency];
  if (fiat !== undefined) return fiat;
  return ASSETS.find((a) => a.code === currency)?.decimals;
}
