import { once } from 'node:events';
import { createServer } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTally } from '../../src/bootstrap.ts';
import { BitcoinNode } from '../../src/chains/bitcoin/bitcoin-node.ts';
import { BitcoinWatcher } from '../../src/chains/bitcoin/bitcoin-watcher.ts';
import { BitcoinRpc, NodeUnavailableError } from '../../src/chains/bitcoin/rpc-client.ts';
import { ChainWatchers } from '../../src/chains/chain-status.ts';
import { type BitcoinHarness, bitcoinHarness, startChain } from '../helpers/bitcoin-e2e.ts';
import type { TestWallet } from '../helpers/btc-wallet.ts';
import type { Btcd } from '../helpers/btcd.ts';
import { DATABASES } from '../helpers/databases.ts';

/**
 * SCENARIOS.md 6, 7 and 14 against btcd, and failing closed: the node going down, the gateway
 * restarting, a write failing halfway through a block. Expiry waits for the watcher; a restart
 * resumes at the persisted cursor, skipping no block and processing none twice.
 */
let chain: { node: Btcd; wallet: TestWallet };
beforeAll(async () => {
  chain = await startChain();
}, 120_000);
afterAll(async () => chain?.node.stop());

const EXPIRY_MS = 900_000;

describe.each(DATABASES)('Bitcoin timing, restarts and failures against btcd ($name)', ({ fresh }) => {
  let h: BitcoinHarness;
  let wallet: TestWallet;
  beforeAll(async () => {
    wallet = chain.wallet;
    h = await bitcoinHarness(await fresh(), chain.node);
  }, 60_000);
  afterAll(async () => h?.close());

  const processedHeights = async () =>
    (
      await h.tally.database.db
        .selectFrom('chain_blocks')
        .select('height')
        .where('network', '=', 'bitcoin-regtest')
        .orderBy('height')
        .execute()
    ).map((r) => r.height);

  it('6: a payment after expiry but inside the window is late_paid with an exception, never silently paid', async () => {
    const inv = await h.invoice('0.001');
    h.clock.advance(EXPIRY_MS + 1_000);
    await h.sync();
    await h.worker.runDue(50);
    expect((await h.get(inv.id)).status).toBe('expired');
    const sent = await wallet.pay([{ address: inv.address, amount: inv.due }]);
    await wallet.mine(1);
    await h.sync();
    const body = await h.get(inv.id);
    expect(body.status).toBe('late_paid');
    const exceptions = await h.exceptions(inv.id);
    expect(exceptions.map((e) => e.kind)).toEqual(['late_payment']);
    // The evidence says why it is late: the payment's txid and the expiry it missed.
    expect(exceptions[0]?.evidence).toMatchObject({ txid: sent.txid, expires_at: body.expires_at });
    expect((await h.eventTypes(inv.id)).filter((t) => t === 'exception.opened')).toHaveLength(1);
  });

  it('7: a payment after the monitoring window is recorded as an unmatched deposit, never ignored', async () => {
    const inv = await h.invoice('0.001');
    h.clock.advance(EXPIRY_MS + 24 * 3_600_000 + 1_000);
    await h.sync();
    await h.worker.runDue(50);
    await h.worker.runDue(50);
    const sent = await wallet.pay([{ address: inv.address, amount: inv.due }]);
    await wallet.mine(1);
    await h.sync();
    const body = await h.get(inv.id);
    expect(body.status).toBe('expired');
    expect(body.payments).toHaveLength(1);
    expect(body.payments[0]).toMatchObject({ txid: sent.txid, credited: false, timing: 'after_window' });
    const [exception] = await h.exceptions(inv.id);
    expect(exception).toMatchObject({ kind: 'unmatched_deposit', evidence: { txid: sent.txid } });
    expect((await h.eventTypes(inv.id)).filter((t) => t === 'exception.opened')).toHaveLength(1);
  });

  it('14: node unreachable while payments are mined, gateway restarted too: the catch-up finds them, no block twice or skipped', async () => {
    const inv = await h.invoice('0.001');
    const other = await h.invoice('0.002');
    const before = await processedHeights();
    await wallet.pay([{ address: inv.address, amount: inv.due }]);
    await wallet.mine(1);
    await wallet.pay([{ address: other.address, amount: other.due }]);
    await wallet.mine(2);
    const tip = await chain.node.rpc.call<number>('getblockcount');

    // The node is unreachable (nothing listens on its port): the poll fails, nothing moves,
    // /readyz says so, and expiry waits for the chain to be read.
    const unreachable = new BitcoinWatcher(h.tally, {
      network: 'bitcoin-regtest',
      node: new BitcoinNode(
        new BitcoinRpc({
          url: `http://127.0.0.1:${await closedPort()}`,
          user: 'x',
          password: 'y',
          timeoutMs: 1_000,
        }),
        'bitcoin-regtest',
      ),
      pollIntervalMs: 50,
      droppedAfterMs: 3_600_000,
    });
    await h.watcher.stop();
    h.tally.chainHealth = new ChainWatchers([unreachable]);
    await expect(unreachable.pollOnce()).rejects.toThrow(NodeUnavailableError);
    expect((await h.get(inv.id)).status).toBe('awaiting_payment');
    const ready = await h.request('GET', '/readyz', { token: null });
    expect(ready.body).toMatchObject({
      status: 'degraded',
      chains: [{ network: 'bitcoin-regtest', state: 'error' }],
    });
    h.clock.advance(EXPIRY_MS + 1_000);
    await h.worker.runDue(50);
    expect((await h.get(inv.id)).status).toBe('awaiting_payment');

    // The gateway restarts with the node back: the first gateway's watcher is gone, and a second
    // gateway opens the same database with its own connections and a watcher with nothing in
    // memory, reading the persisted cursor.
    const second = await openTally(h.tally.config, {
      clock: h.clock,
      rates: h.tally.rates,
      log: pino({ level: 'silent' }),
    });
    const restarted = new BitcoinWatcher(second, {
      network: 'bitcoin-regtest',
      node: new BitcoinNode(chain.node.rpc, 'bitcoin-regtest'),
      pollIntervalMs: 50,
      droppedAfterMs: 3_600_000,
    });
    h.tally.chainHealth = new ChainWatchers([restarted]);
    try {
      await restarted.pollOnce();
      // A second poll over the same tip must change nothing: no block is processed twice.
      await restarted.pollOnce();
      for (const id of [inv.id, other.id]) {
        const body = await h.get(id);
        // Mined before expiry (block time), found after: on time, so paid, not late.
        expect(body.status).toBe('paid');
        expect(body.payments).toHaveLength(1);
        // Each payment announced once: found at depth by the catch-up, so detected and confirmed
        // together (decision 0021), and paid once.
        const types = await h.eventTypes(id);
        for (const type of ['payment.detected', 'payment.confirmed', 'invoice.paid'])
          expect(
            types.filter((t) => t === type),
            type,
          ).toHaveLength(1);
      }
      // Every height after the last one processed before the outage, each once, none skipped.
      const after = await processedHeights();
      const last = before.at(-1) ?? 0;
      expect(after.filter((height) => height > last)).toEqual(
        Array.from({ length: tip - last }, (_, i) => last + 1 + i),
      );
      expect((await h.request('GET', '/readyz', { token: null })).body.status).toBe('ready');
    } finally {
      await restarted.stop();
      await second.database.close();
    }
  });

  it('a write failing halfway through a block leaves no trace; the next poll processes that block exactly once', async () => {
    const inv = await h.invoice('0.001');
    await wallet.pay([{ address: inv.address, amount: inv.due }]);
    const [hash] = await wallet.mine(1);
    const realWrite = h.tally.database.write.bind(h.tally.database);
    let failNext = true;
    h.tally.database.write = (unit) =>
      realWrite(async (trx) => {
        const result = await unit(trx);
        if (failNext) {
          failNext = false;
          throw new Error('simulated crash before commit');
        }
        return result;
      });
    const watcher = new BitcoinWatcher(h.tally, {
      network: 'bitcoin-regtest',
      node: new BitcoinNode(chain.node.rpc, 'bitcoin-regtest'),
      pollIntervalMs: 50,
      droppedAfterMs: 3_600_000,
    });
    h.tally.chainHealth = new ChainWatchers([watcher]);
    try {
      await expect(watcher.pollOnce()).rejects.toThrow('simulated crash');
    } finally {
      h.tally.database.write = realWrite;
    }
    expect((await h.get(inv.id)).payments).toHaveLength(0);
    const rows = await h.tally.database.db
      .selectFrom('chain_blocks')
      .select('hash')
      .where('hash', '=', hash as string)
      .execute();
    expect(rows).toHaveLength(0);
    await watcher.pollOnce();
    const body = await h.get(inv.id);
    expect(body.status).toBe('paid');
    expect(body.payments).toHaveLength(1);
    expect((await h.eventTypes(inv.id)).filter((t) => t === 'invoice.paid')).toHaveLength(1);
  });

  it('the live loop detects a payment and a block without being asked; metrics show the node and the cursor', async () => {
    const watcher = new BitcoinWatcher(h.tally, {
      network: 'bitcoin-regtest',
      node: new BitcoinNode(chain.node.rpc, 'bitcoin-regtest'),
      pollIntervalMs: 50,
      droppedAfterMs: 3_600_000,
    });
    h.tally.chainHealth = new ChainWatchers([watcher]);
    watcher.start();
    try {
      const inv = await h.invoice('0.001');
      await wallet.pay([{ address: inv.address, amount: inv.due }]);
      await waitFor(async () => (await h.get(inv.id)).status === 'detected');
      await wallet.mine(1);
      await waitFor(async () => (await h.get(inv.id)).status === 'paid');
      const tip = await chain.node.rpc.call<number>('getblockcount');
      await waitFor(async () => watcher.status().cursorHeight === tip);
      const metrics = (await h.request('GET', '/metrics', { token: null })).body as string;
      expect(metrics).toContain(`tally_chain_node_height{network="bitcoin-regtest"} ${tip}`);
      expect(metrics).toContain(`tally_chain_cursor_height{network="bitcoin-regtest"} ${tip}`);
      expect(metrics).toContain('tally_chain_lag_blocks{network="bitcoin-regtest"} 0');
    } finally {
      await watcher.stop();
    }
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('condition not met in time');
}
