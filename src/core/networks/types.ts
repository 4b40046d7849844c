import type { AssetDefinition, NetworkDefinition } from '../registry.ts';

/** One network and the assets Tally accepts on it: the whole of what adding a network takes. */
export interface NetworkFile {
  network: NetworkDefinition;
  /** Native coin (contract null) and allow-listed tokens; only these contracts ever credit. */
  assets: ReadonlyArray<Omit<AssetDefinition, 'network'>>;
}
