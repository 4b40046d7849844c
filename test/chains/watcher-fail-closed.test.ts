import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BitcoinNode, NodeStatus } from '../../src/chains/bitcoin/bitcoin-node.ts';
import { BitcoinWatcher, ReorgTooDeepError } from '../../src/chains/bitcoin/bitcoin-watcher.ts';
import { ChainWatchers } from '../../src/chains/chain-status.ts';
import { freshSqlite } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * Node states a real regtest btcd cannot be put in on demand (still syncing; a history that no
 * longer contains any block we processed). A scripted node answers instead — the only stand-in in
 * the Bitcoin suites; everything else runs against a real btcd. The watcher must not move anything.
 */
function scriptedNode(status: NodeStatus, hashAt: (height: number) => string | null): BitcoinNode {
  return {
    network: 'bitcoin-regtest',
    checkGenesis: async () => {},
    status: async () => status,
    blockHashAt: async (height: number) => hashAt(height),
    previousHash: async () => '00'.repeat(32),
    block: async () => {
      throw new Error('no block should be read');
    },
    mempoolTxids: async () => [],
    transactions: async () => [],
    transaction: async () => null,
  } as unknown as BitcoinNode;
}

describe('the Bitcoin watcher fails closed', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness(await freshSqlite());
  });
  afterEach(async () => h.close());

  const blocks = () => h.tally.database.db.selectFrom('chain_blocks').selectAll().execute();

  it('a node still syncing (headers ahead of blocks) is not read: no cursor, not caught up, readyz says so', async () => {
    const watcher = new BitcoinWatcher(h.tally, {
      network: 'bitcoin-regtest',
      node: scriptedNode({ height: 500, hash: 'aa'.repeat(32), syncing: true, chain: 'regtest' }, () =>
        'aa'.repeat(32),
      ),
      pollIntervalMs: 50,
      droppedAfterMs: 60_000,
    });
    h.tally.chainHealth = new ChainWatchers([watcher]);
    await watcher.pollOnce();
    expect(await blocks()).toHaveLength(0);
    expect(watcher.status()).toMatchObject({ syncing: true, caughtUp: false, nodeHeight: 500 });
    expect(h.tally.chainHealth.caughtUpTo('bitcoin-regtest', h.clock.now())).toBe(false);
    const ready = await h.request('GET', '/readyz', { token: null });
    expect(ready.body.chains[0]).toMatchObject({ state: 'node_syncing', node_height: 500 });
  });

  it('a node whose chain shares none of our recent blocks stops the watcher instead of rolling everything back', async () => {
    let chain = 'aa';
    const node = scriptedNode({ height: 10, hash: 'aa'.repeat(32), syncing: false, chain: 'regtest' }, () =>
      chain.repeat(32),
    );
    const watcher = new BitcoinWatcher(h.tally, {
      network: 'bitcoin-regtest',
      node,
      pollIntervalMs: 50,
      droppedAfterMs: 60_000,
      startHeight: 11,
    });
    await watcher.pollOnce(); // cursor at height 10 = aa…
    expect((await blocks()).map((b) => b.height)).toEqual([10]);
    chain = 'bb'; // every height now answers a different hash: a different chain
    await expect(watcher.pollOnce()).rejects.toBeInstanceOf(ReorgTooDeepError);
    expect((await blocks()).map((b) => b.hash)).toEqual(['aa'.repeat(32)]);
    expect(watcher.status().lastError).toMatch(/none of the last 1 processed blocks/);
  });
});
