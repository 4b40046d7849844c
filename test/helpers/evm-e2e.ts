import { ChainWatchers } from '../../src/chains/chain-status.ts';
import { EvmNode } from '../../src/chains/evm/evm-node.ts';
import { EvmWatcher } from '../../src/chains/evm/evm-watcher.ts';
import { EvmRpc } from '../../src/chains/evm/rpc-client.ts';
import { getNetwork, listAssets } from '../../src/core/registry.ts';
import { type Anvil, startAnvil } from '../../src/dev/anvil.ts';
import { deployToken, prepareActors } from '../../src/dev/evm-tools.ts';
import type { PolicyInput } from '../../src/invoices/policy.ts';
import type { TestDatabase } from './databases.ts';
import { createHarness, type Harness } from './harness.ts';

/**
 * A real anvil emulating one registry network: its chain id, and the network's allow-listed tokens
 * (test ERC-20s from contracts/TestToken.sol) placed at their real addresses, so the watcher runs
 * with the registry exactly as in production. `finalized` is the tip minus 4 (two epochs of 2 slots).
 */
export interface EvmChain {
  network: string;
  anvil: Anvil;
  rpc: EvmRpc;
  /** Asset code → token contract on this chain. */
  tokens: Record<string, string>;
  mine(blocks: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startEvmChain(network: string): Promise<EvmChain> {
  const def = getNetwork(network);
  if (def.chainId === undefined) throw new Error(`${network} is not EVM`);
  const anvil = await startAnvil({ chainId: def.chainId, slotsInAnEpoch: 2 });
  const rpc = new EvmRpc({ urls: [anvil.url], attempts: 1 });
  await prepareActors(rpc);
  const tokens: Record<string, string> = {};
  for (const asset of listAssets().filter((a) => a.network === network && a.contract !== null)) {
    tokens[asset.code] = await deployToken(rpc, {
      name: `Test ${asset.code}`,
      symbol: asset.code,
      decimals: asset.decimals,
      at: asset.contract as string,
    });
  }
  return {
    network,
    anvil,
    rpc,
    tokens,
    mine: async (blocks) => {
      await rpc.call('anvil_mine', [`0x${blocks.toString(16)}`]);
    },
    stop: () => anvil.stop(),
  };
}

export interface EvmHarness extends Harness {
  watchers: EvmWatcher[];
  /** One poll of every watcher: deterministic, instead of the timer loop. */
  sync(): Promise<void>;
  invoice(
    asset: string,
    network: string,
    amount: string,
    policy?: PolicyInput,
  ): Promise<{ id: string; optionId: string; address: string; due: bigint }>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the invoice JSON loosely; assertions check it.
  get(id: string): Promise<any>;
  eventTypes(id: string): Promise<string[]>;
  exceptions(id: string): Promise<Array<{ kind: string; evidence: Record<string, unknown> }>>;
}

/** A harness with one EVM watcher per chain, each reading its chain from the current tip on. */
export async function evmHarness(
  db: TestDatabase,
  chains: readonly EvmChain[],
  /** The node each watcher reads through (default: the chain's anvil directly). */
  nodeFor: (chain: EvmChain) => EvmNode = (c) =>
    new EvmNode(new EvmRpc({ urls: [c.anvil.url], attempts: 1 }), getNetwork(c.network)),
): Promise<EvmHarness> {
  const h = await createHarness(db);
  // Block times are wall-clock; keep the manual clock near them so payment timing makes sense.
  h.clock.set(new Date());
  const watchers = chains.map(
    (c) =>
      new EvmWatcher(h.tally, {
        network: c.network,
        node: nodeFor(c),
        pollIntervalMs: 50,
      }),
  );
  h.tally.chainHealth = new ChainWatchers(watchers);
  for (const w of watchers) await w.pollOnce();
  const close = h.close.bind(h);
  return Object.assign(h, {
    watchers,
    sync: async () => {
      for (const w of watchers) await w.pollOnce();
    },
    async invoice(asset: string, network: string, amount: string, policy?: PolicyInput) {
      const res = await h.request('POST', '/v1/invoices', {
        body: {
          price: { amount, currency: asset },
          payment_options: [{ asset, network }],
          ...(policy ? { policy } : {}),
        },
      });
      if (res.status !== 201) throw new Error(`invoice: ${res.status} ${JSON.stringify(res.body)}`);
      const option = res.body.payment_options[0];
      return {
        id: res.body.id as string,
        optionId: option.id as string,
        address: option.address as string,
        due: BigInt(option.amount_due_base_units),
      };
    },
    async get(id: string) {
      return (await h.request('GET', `/v1/invoices/${id}`)).body;
    },
    async eventTypes(id: string) {
      const res = await h.request('GET', `/v1/invoices/${id}/events?limit=100`);
      return (res.body.data as Array<{ type: string }>).map((e) => e.type);
    },
    async exceptions(id: string) {
      const res = await h.request('GET', `/v1/exceptions?limit=100`);
      return (
        res.body.data as Array<{ invoice_id: string; kind: string; evidence: Record<string, unknown> }>
      ).filter((e) => e.invoice_id === id);
    },
    close: async () => {
      for (const w of watchers) await w.stop();
      await close();
    },
  });
}
