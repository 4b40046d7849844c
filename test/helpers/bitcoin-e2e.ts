import { BitcoinNode } from '../../src/chains/bitcoin/bitcoin-node.ts';
import { BitcoinWatcher } from '../../src/chains/bitcoin/bitcoin-watcher.ts';
import { ChainWatchers } from '../../src/chains/chain-status.ts';
import type { PolicyInput } from '../../src/invoices/policy.ts';
import { TestWallet } from './btc-wallet.ts';
import { type Btcd, startBtcd } from './btcd.ts';
import type { TestDatabase } from './databases.ts';
import { createHarness, type Harness } from './harness.ts';

/** One btcd per test file, shared by the SQLite and PostgreSQL legs; a customer wallet with mature coins. */
export async function startChain(): Promise<{ node: Btcd; wallet: TestWallet }> {
  const wallet = new TestWallet();
  const node = await startBtcd(wallet.address);
  wallet.rpc = node.rpc;
  await wallet.mine(120);
  return { node, wallet };
}

export interface BitcoinHarness extends Harness {
  watcher: BitcoinWatcher;
  /** One watcher poll: new blocks, then the mempool. Deterministic, instead of the timer loop. */
  sync(): Promise<void>;
  invoice(btc: string, policy?: PolicyInput): Promise<{ id: string; address: string; due: bigint }>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the invoice JSON loosely; assertions check it.
  get(id: string): Promise<any>;
  eventTypes(id: string): Promise<string[]>;
  exceptions(id: string): Promise<Array<{ kind: string; evidence: Record<string, unknown> }>>;
}

/** A harness whose watcher reads the shared node from its current tip on. */
export async function bitcoinHarness(db: TestDatabase, node: Btcd): Promise<BitcoinHarness> {
  const h = await createHarness(db);
  // Block times are wall-clock; keep the manual clock near them so "first seen in a block" dates make sense.
  h.clock.set(new Date());
  const watcher = new BitcoinWatcher(h.tally, {
    network: 'bitcoin-regtest',
    node: new BitcoinNode(node.rpc, 'bitcoin-regtest'),
    pollIntervalMs: 50,
    droppedAfterMs: 3_600_000,
  });
  h.tally.chainHealth = new ChainWatchers([watcher]);
  await watcher.pollOnce();
  const close = h.close.bind(h);
  return Object.assign(h, {
    watcher,
    sync: () => watcher.pollOnce(),
    async invoice(btc: string, policy?: PolicyInput) {
      const res = await h.request('POST', '/v1/invoices', {
        body: {
          price: { amount: btc, currency: 'BTC' },
          payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
          ...(policy ? { policy } : {}),
        },
      });
      if (res.status !== 201) throw new Error(`invoice: ${res.status} ${JSON.stringify(res.body)}`);
      const option = res.body.payment_options[0];
      return {
        id: res.body.id as string,
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
      await watcher.stop();
      await close();
    },
  });
}
