import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvmNode } from '../../src/chains/evm/evm-node.ts';
import { EvmWatcher, NodeMismatchError } from '../../src/chains/evm/evm-watcher.ts';
import { EvmRpc } from '../../src/chains/evm/rpc-client.ts';
import { getNetwork } from '../../src/core/registry.ts';
import { type Anvil, startAnvil } from '../../src/dev/anvil.ts';
import { deployToken, prepareActors } from '../../src/dev/evm-tools.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * Before reading anything, the watcher checks that the node serves the network's chain id and
 * that each allow-listed token reports the registry's decimals: a node for another chain, or a
 * token whose amounts would be misread, stops it with nothing written.
 */
let ethereumLike: Anvil;
let polygonWrongDecimals: Anvil;
beforeAll(async () => {
  [ethereumLike, polygonWrongDecimals] = await Promise.all([
    startAnvil({ chainId: 1 }),
    startAnvil({ chainId: 137 }),
  ]);
  const rpc = new EvmRpc({ urls: [polygonWrongDecimals.url] });
  await prepareActors(rpc);
  // Polygon's USDC address holding an 18-decimal token: amounts would be off by 10^12.
  await deployToken(rpc, {
    name: 'Fake',
    symbol: 'USDC',
    decimals: 18,
    at: '0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359',
  });
}, 60_000);
afterAll(async () => Promise.all([ethereumLike?.stop(), polygonWrongDecimals?.stop()]));

describe.each(DATABASES)('EVM node identity ($name)', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh());
  }, 60_000);
  afterAll(async () => h?.close());

  const watcher = (network: string, url: string) =>
    new EvmWatcher(h.tally, {
      network,
      node: new EvmNode(new EvmRpc({ urls: [url], attempts: 1 }), getNetwork(network)),
      pollIntervalMs: 50,
    });
  const cursorRows = (network: string) =>
    h.tally.database.db.selectFrom('chain_blocks').select('height').where('network', '=', network).execute();

  it('a node with another chain id than the network is refused', async () => {
    const w = watcher('polygon', ethereumLike.url);
    await expect(w.pollOnce()).rejects.toThrow(NodeMismatchError);
    expect(w.status().lastError).toMatch(/chain id 1, the registry says 137/);
    expect(await cursorRows('polygon')).toEqual([]);
  });

  it('a token contract whose decimals differ from the registry is refused', async () => {
    const w = watcher('polygon', polygonWrongDecimals.url);
    await expect(w.pollOnce()).rejects.toThrow(/USDC at 0x3c49.* reports 18 decimals, the registry says 6/);
    expect(await cursorRows('polygon')).toEqual([]);
  });
});
