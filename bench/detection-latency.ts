import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import pino from 'pino';
import { createMerchant } from '../src/auth/merchants.ts';
import { openTally } from '../src/bootstrap.ts';
import { BitcoinNode } from '../src/chains/bitcoin/bitcoin-node.ts';
import { BitcoinWatcher } from '../src/chains/bitcoin/bitcoin-watcher.ts';
import { loadConfig } from '../src/config.ts';
import { DEV_REGTEST_TPUB } from '../src/dev/dev-wallets.ts';
import { createInvoice } from '../src/invoices/create-invoice.ts';
import { addWallet } from '../src/wallets/wallet-service.ts';
import { startChain } from '../test/helpers/bitcoin-e2e.ts';
import { type Row, row } from './lib.ts';

const NETWORK = 'bitcoin-regtest';
const POLL_MS = 100;
const ROUNDS = 30;

/** Resolves once `done()` is true, checking every millisecond; fails after `ms`. */
async function until(what: string, ms: number, done: () => boolean): Promise<void> {
  const end = performance.now() + ms;
  while (!done()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

/** Nearest-rank percentile of ascending `sorted`. */
const percentile = (sorted: number[], p: number) =>
  sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] as number;

/**
 * End to end against a real btcd in regtest: a Tally on a temp SQLite file with its watcher on the
 * real timer loop, an invoice paid (non-RBF) and seen in the mempool (`detected`), then the time
 * from sending `generate 1` until the invoice row reads `paid` (one confirmation, the regtest
 * default). The row is read every ~1 ms on a separate read-only connection, so what is timed is a
 * committed state change, plus up to ~1 ms of polling. The watcher polls every POLL_MS after the
 * previous poll ends, and a random pause before each block spreads it over the poll cycle: the
 * expected latency is about POLL_MS / 2 plus one poll's work. Baseline: the node's own
 * `getblock <hash> 0` round-trip for each new block, in the same run.
 */
export async function benchDetectionLatency(): Promise<Row[]> {
  const { node, wallet } = await startChain();
  const dir = mkdtempSync(join(tmpdir(), 'tally-bench-btc-'));
  const path = join(dir, 'tally.db');
  const config = loadConfig({}, { databaseUrl: path, logLevel: 'warn' });
  const tally = await openTally(config, { log: pino({ level: 'warn' }) });
  const watcher = new BitcoinWatcher(tally, {
    network: NETWORK,
    node: new BitcoinNode(node.rpc, NETWORK),
    pollIntervalMs: POLL_MS,
    droppedAfterMs: 3_600_000,
  });
  const probe = new SQLite(path, { readonly: true });
  const latencies: number[] = [];
  const generates: number[] = [];
  const getblocks: number[] = [];
  try {
    const merchant = await createMerchant(tally.database.db, 'Bench Store', tally.clock.now());
    await addWallet(tally, merchant.id, { scope: NETWORK, xpub: DEV_REGTEST_TPUB });
    watcher.start();
    const statusOf = probe.prepare<[string], string>('select status from invoices where id = ?').pluck();
    for (let round = 1; round <= ROUNDS; round++) {
      const invoice = await createInvoice(tally, merchant.id, {
        price: { amount: '0.001', currency: 'BTC' },
        payment_options: [{ asset: 'BTC', network: NETWORK }],
      });
      const option = invoice.payment_options[0]!;
      // Pay only once a poll has loaded the new address: a mempool entry read by a poll that
      // refreshed its watch set just before the invoice was committed is not looked at again
      // until it is mined (see the report), and the round would never reach `detected`.
      await until(
        'the watch set to load the address',
        10_000,
        () => watcher.status().watchedAddresses >= round,
      );
      await wallet.pay([{ address: option.address, amount: BigInt(option.amount_due_base_units) }]);
      await until('detected', 10_000, () => statusOf.get(invoice.id) === 'detected');
      await sleep(Math.random() * POLL_MS);
      const start = performance.now();
      const [hash] = await wallet.mine(1);
      generates.push(performance.now() - start);
      await until('paid', 10_000, () => statusOf.get(invoice.id) === 'paid');
      latencies.push(performance.now() - start);
      const asked = performance.now();
      await node.rpc.call<string>('getblock', [hash, 0]);
      getblocks.push(performance.now() - asked);
    }
  } finally {
    await watcher.stop();
    probe.close();
    await tally.database.close();
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  for (const list of [latencies, generates, getblocks]) list.sort((a, b) => a - b);
  const name = `generate_to_paid_poll${POLL_MS}ms`;
  const rows = (['p50', 'p95', 'max'] as const).map((label) => {
    const p = label === 'max' ? 1 : Number(label.slice(1)) / 100;
    const value = percentile(latencies, p);
    return row(
      `${name}_${label}`,
      value,
      `ms (${ROUNDS} blocks)`,
      `btcd_getblock_raw_rtt_${label}`,
      percentile(getblocks, p),
      label === 'p50' ? '<= 250 ms' : 'informational',
      label === 'p50' ? value <= 250 : true,
    );
  });
  rows.push(
    row(
      'btcd_generate_1_rtt_p50',
      percentile(generates, 0.5),
      'ms (inside the latency above)',
      'btcd_getblock_raw_rtt_p50',
      percentile(getblocks, 0.5),
      'informational',
      true,
    ),
  );
  return rows;
}
