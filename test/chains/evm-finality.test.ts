import { describe, expect, it } from 'vitest';
import { reportedConfirmations } from '../../src/chains/evm/finality.ts';
import { getNetwork } from '../../src/core/registry.ts';

/** Confirmations under each network's finality rule (src/chains/evm/finality.ts). */
describe('reported confirmations', () => {
  const polygon = getNetwork('polygon'); // 64 blocks
  const ethereum = getNetwork('ethereum'); // finalized tag, default 12

  it('a block-count network reports plain depth', () => {
    expect(reportedConfirmations(polygon, 100, 100, null)).toBe(1);
    expect(reportedConfirmations(polygon, 100, 163, null)).toBe(64);
  });

  it('a tag network never reaches its default depth before the tag covers the block', () => {
    expect(reportedConfirmations(ethereum, 100, 140, 99)).toBe(11); // 41 deep, not final
    expect(reportedConfirmations(ethereum, 100, 105, 100)).toBe(12); // final at 6 deep
    expect(reportedConfirmations(ethereum, 100, 140, 120)).toBe(41); // final: real depth beyond
    expect(reportedConfirmations(ethereum, 100, 102, 50)).toBe(3); // shallow: plain depth
  });

  it('every network in the registry has a usable rule', () => {
    for (const id of [
      'ethereum',
      'sepolia',
      'polygon',
      'polygon-amoy',
      'base',
      'base-sepolia',
      'arbitrum',
      'arbitrum-sepolia',
      'optimism',
      'optimism-sepolia',
      'evm-devnet',
    ]) {
      const net = getNetwork(id);
      expect(net.chainId, id).toBeGreaterThan(0);
      expect(net.defaultConfirmations, id).toBeGreaterThanOrEqual(1);
      expect(
        reportedConfirmations(net, 1, 1, net.finality.kind === 'tag' ? 1 : null),
        id,
      ).toBeGreaterThanOrEqual(1);
    }
  });
});
