import { findNetwork } from '../../core/registry.ts';

/**
 * `TALLY_EVM_RPC`: which EVM networks to watch and through which RPC URLs, in order of preference:
 *
 *   polygon=https://polygon-rpc.example/KEY,https://backup.example;ethereum=https://eth.example
 *
 * Networks are separated by `;`, URLs of one network by `,` (the second and later are fallbacks).
 * Returns the parsed map, or the problems found (each naming the offending part).
 */
export function parseEvmRpc(text: string): { networks: Map<string, string[]>; problems: string[] } {
  const networks = new Map<string, string[]>();
  const problems: string[] = [];
  for (const part of text.split(';').map((p) => p.trim())) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const id = eq > 0 ? part.slice(0, eq).trim() : '';
    const net = findNetwork(id);
    if (net?.family !== 'evm') {
      problems.push(`TALLY_EVM_RPC: "${id || part}" is not an EVM network id`);
      continue;
    }
    if (networks.has(id)) problems.push(`TALLY_EVM_RPC: ${id} is listed twice`);
    const urls = part
      .slice(eq + 1)
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== '');
    if (urls.length === 0 || urls.some((u) => !/^https?:\/\/[^\s]+$/.test(u))) {
      problems.push(`TALLY_EVM_RPC: ${id} needs one or more http(s) URLs`);
      continue;
    }
    networks.set(id, urls);
  }
  return { networks, problems };
}
