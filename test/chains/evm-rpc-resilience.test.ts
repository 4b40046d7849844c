import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EvmNode } from '../../src/chains/evm/evm-node.ts';
import { EvmRpc, RpcUnavailableError } from '../../src/chains/evm/rpc-client.ts';
import { getNetwork } from '../../src/core/registry.ts';
import { DEV_ACCOUNTS, mint, transferToken } from '../../src/dev/evm-tools.ts';
import { DATABASES } from '../helpers/databases.ts';
import { type EvmChain, type EvmHarness, evmHarness, startEvmChain } from '../helpers/evm-e2e.ts';
import { deadUrl, type RpcProxy, startRpcProxy } from '../helpers/rpc-proxy.ts';

/**
 * RPC resilience against a real anvil behind a controllable proxy: a dead first URL falls back to
 * the next, transient failures are retried, a provider's block-range limit is worked around by
 * splitting, headers and logs come in few batched requests, and when no URL answers nothing moves
 * (fail closed) until the node is back.
 */
let chain: EvmChain;
beforeAll(async () => {
  chain = await startEvmChain('evm-devnet');
  await mint(chain.rpc, chain.tokens.USDC as string, DEV_ACCOUNTS.customer, 1_000_000_000n);
}, 60_000);
afterAll(async () => chain?.stop());

const ONE_BLOCK = {
  value_currency: 'USDC',
  confirmation_tiers: { 'evm-devnet': [{ max_value: null, confirmations: 1 }] },
};

describe.each(DATABASES)('EVM RPC resilience ($name)', ({ fresh }) => {
  let h: EvmHarness;
  let proxy: RpcProxy;
  let dead: string;
  let node: EvmNode;
  beforeAll(async () => {
    proxy = await startRpcProxy(chain.anvil.url);
    dead = await deadUrl();
    h = await evmHarness(await fresh(), [chain], (c) => {
      node = new EvmNode(
        new EvmRpc({ urls: [dead, proxy.url], attempts: 3, backoffMs: 5, timeoutMs: 2_000 }),
        getNetwork(c.network),
        100,
      );
      return node;
    });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await proxy?.close();
  });
  afterEach(() => {
    proxy.failWith = null;
    proxy.failNext = 0;
    proxy.intercept = null;
  });

  const pay = async (amount: string) => {
    const inv = await h.invoice('USDC', 'evm-devnet', amount, ONE_BLOCK);
    await transferToken(chain.rpc, chain.tokens.USDC as string, DEV_ACCOUNTS.customer, inv.address, inv.due);
    return inv;
  };

  it('a dead first URL falls back to the next one, and transient 503s are retried', async () => {
    const inv = await pay('1');
    proxy.failNext = 2; // the proxy fails twice more after the dead URL: retried with backoff
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('paid');
    expect(h.watchers[0]?.status().lastError).toBeNull();
  });

  it("a provider's block-range limit is worked around by splitting eth_getLogs", async () => {
    proxy.intercept = (call) => {
      if (call.method !== 'eth_getLogs') return undefined;
      const [filter] = call.params as Array<{ fromBlock: string; toBlock: string }>;
      if (!filter) return undefined;
      const span = Number(BigInt(filter.toBlock) - BigInt(filter.fromBlock)) + 1;
      return span > 4 ? { error: { code: -32602, message: 'query exceeds max block range 4' } } : undefined;
    };
    const inv = await pay('2');
    await chain.mine(20); // the watcher catches up 21 blocks in ranges of at most 4
    const splitsBefore = node.splits;
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('paid');
    expect(node.splits).toBeGreaterThan(splitsBefore);
  });

  it('headers and logs of many blocks come in a few batched HTTP requests', async () => {
    await chain.mine(40);
    const before = proxy.requests;
    await h.sync();
    // 41 blocks with transactions + logs: well under one request per block.
    expect(proxy.requests - before).toBeLessThan(10);
    expect(h.watchers[0]?.status().caughtUp).toBe(true);
  });

  it('with no URL answering, the poll fails and nothing moves; once back, the payment is found', async () => {
    const inv = await pay('3');
    const cursorBefore = h.watchers[0]?.status().cursorHeight;
    proxy.failWith = 502;
    await expect(h.sync()).rejects.toBeInstanceOf(RpcUnavailableError);
    const status = h.watchers[0]?.status();
    expect(status?.caughtUp).toBe(false);
    expect(status?.lastError).toMatch(/no RPC URL answered/);
    expect(status?.cursorHeight).toBe(cursorBefore);
    expect((await h.get(inv.id)).status).toBe('awaiting_payment');
    const ready = await h.request('GET', '/readyz');
    expect(ready.body.status).toBe('degraded');
    expect(ready.body.chains[0]).toMatchObject({ network: 'evm-devnet', state: 'error' });
    proxy.failWith = null;
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('paid');
  });

  it('a node that answers "no logs" for blocks it does not have yet is caught by the batched anchor', async () => {
    const inv = await pay('4');
    const cursorBefore = h.watchers[0]?.status().cursorHeight ?? 0;
    // Headers come from an up-to-date node, eth_getLogs from a lagging one: it finds no logs and
    // has no header beyond what the watcher already processed.
    proxy.intercept = (call) => {
      if (call.method === 'eth_getLogs') return { result: [] };
      const [tag, full] = call.params as [string, boolean];
      if (call.method === 'eth_getBlockByNumber' && full === false && tag.startsWith('0x')) {
        return Number(BigInt(tag)) > cursorBefore ? { result: null } : undefined;
      }
      return undefined;
    };
    await h.sync();
    expect(h.watchers[0]?.status().cursorHeight).toBe(cursorBefore);
    expect((await h.get(inv.id)).status).toBe('awaiting_payment');
    proxy.intercept = null;
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('paid');
  });
});
