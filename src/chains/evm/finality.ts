import type { NetworkDefinition } from '../../core/registry.ts';

/**
 * The confirmations reported for a payment mined at `blockHeight` when the tip is `tipHeight`.
 *
 * Block-count networks: plain depth. Tag networks (Ethereum's `finalized`, a rollup's `safe`):
 * depth, but never the network's default depth or more until the node's tag covers the block, and
 * at least that default once it does. So an invoice on the network default waits for finality
 * however fast blocks come, while a merchant tier below the default (small amounts, accepted
 * risk) still counts plain depth. `finalizedHeight` null means the rule is not a tag.
 */
export function reportedConfirmations(
  network: Pick<NetworkDefinition, 'defaultConfirmations' | 'finality'>,
  blockHeight: number,
  tipHeight: number,
  finalizedHeight: number | null,
): number {
  const depth = Math.max(0, tipHeight - blockHeight + 1);
  if (network.finality.kind === 'blocks' || finalizedHeight === null) return depth;
  if (blockHeight <= finalizedHeight) return Math.max(depth, network.defaultConfirmations);
  return Math.min(depth, network.defaultConfirmations - 1);
}
