import type { AssetDefinition, NetworkDefinition } from './registry.ts';

/**
 * The registry as `GET /v1/assets` shows it: snake_case like the rest of the API, every field
 * present (null rather than absent), so the wire shape does not follow the TypeScript objects'.
 */
export function networkJson(n: NetworkDefinition) {
  return {
    id: n.id,
    family: n.family,
    name: n.name,
    testnet: n.testnet,
    local: n.local,
    chain_id: n.chainId ?? null,
    block_time_seconds: n.blockTimeSeconds,
    default_confirmations: n.defaultConfirmations,
    finality:
      n.finality.kind === 'tag' ? { kind: 'tag', tag: n.finality.tag } : { kind: 'blocks', tag: null },
  };
}

export function assetJson(a: AssetDefinition) {
  return {
    code: a.code,
    network: a.network,
    name: a.name,
    decimals: a.decimals,
    contract: a.contract,
    quote_as: a.quoteAs ?? a.code,
  };
}
