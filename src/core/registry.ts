import { TallyError } from './errors.ts';
import { ASSETS, FIAT_CURRENCIES, NETWORKS } from './registry-data.ts';

export type ChainFamily = 'bitcoin' | 'evm';

export interface NetworkDefinition {
  id: string;
  family: ChainFamily;
  name: string;
  testnet: boolean;
  /** A network run on this machine (the dev devnets): what dev mode offers by default. */
  local: boolean;
  chainId?: number;
  blockTimeSeconds: number;
  /**
   * Blocks required when neither a value tier nor a merchant override applies. On a network whose
   * finality is a tag, a payment counts this deep only once the node's tag covers its block, so the
   * default waits for finality while a merchant's lower tier accepts plain depth
   * (src/chains/evm/finality.ts).
   */
  defaultConfirmations: number;
  finality: Finality;
}

/**
 * When a block is final: after a count of blocks, or once the node's `finalized` / `safe` block
 * tag has reached it (rollups and proof-of-stake Ethereum say so themselves).
 */
export type Finality = { kind: 'blocks' } | { kind: 'tag'; tag: 'finalized' | 'safe' };

export interface AssetDefinition {
  code: string;
  network: string;
  decimals: number;
  /** What a person calls it: "USD Coin (Circle, native)"; never used to recognise a transfer. */
  name: string;
  /** Token contract for ERC-20 style assets; null for the network's native coin. */
  contract: string | null;
  /** The ticker rate providers know it by, for variants such as bridged USDC.e ("USDC"). */
  quoteAs?: string;
}

const networksById = new Map(NETWORKS.map((n) => [n.id, n]));
const assetsByKey = new Map(ASSETS.map((a) => [`${a.code}/${a.network}`, a]));
const tokensByContract = new Map(
  ASSETS.filter((a) => a.contract !== null).map((a) => [`${a.network}/${a.contract?.toLowerCase()}`, a]),
);

export function listNetworks(): readonly NetworkDefinition[] {
  return NETWORKS;
}

export function listAssets(): readonly AssetDefinition[] {
  return ASSETS;
}

export function findNetwork(id: string): NetworkDefinition | undefined {
  return networksById.get(id);
}

/** The network `id`; a request's unknown network is refused naming `field`, when given. */
export function getNetwork(id: string, field?: string): NetworkDefinition {
  const network = networksById.get(id);
  if (!network) {
    throw new TallyError(
      'unsupported_asset',
      `Unknown network "${id}".`,
      field ? { issues: [{ path: field, message: `unknown network "${id}"` }] } : undefined,
    );
  }
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

/** The allow-listed token at `contract` on `network` (any letter case), if any. */
export function findTokenByContract(network: string, contract: string): AssetDefinition | undefined {
  return tokensByContract.get(`${network}/${contract.toLowerCase()}`);
}

/** Decimal places of a price currency: ISO-4217 fiat, or a crypto asset code priced directly. */
export function currencyDecimals(currency: string): number | undefined {
  const fiat = FIAT_CURRENCIES[currency];
  if (fiat !== undefined) return fiat;
  return ASSETS.find((a) => a.code === currency)?.decimals;
}
