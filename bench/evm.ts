import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import pino from 'pino';
import { createMerchant } from '../src/auth/merchants.ts';
import { openTally } from '../src/bootstrap.ts';
import { matchTransferLogs } from '../src/chains/evm/detect.ts';
import { type EvmLog, EvmNode, TRANSFER_TOPIC } from '../src/chains/evm/evm-node.ts';
import { EvmWatcher } from '../src/chains/evm/evm-watcher.ts';
import { EvmRpc } from '../src/chains/evm/rpc-client.ts';
import { EvmWatchSet } from '../src/chains/evm/watch-set.ts';
import { loadConfig } from '../src/config.ts';
import { findAsset, getNetwork, listAssets } from '../src/core/registry.ts';
import { startAnvil } from '../src/dev/anvil.ts';
import { DEV_EVM_XPUB } from '../src/dev/dev-wallets.ts';
import { DEV_ACCOUNTS, deployToken, mint, prepareActors, transferToken } from '../src/dev/evm-tools.ts';
import { createInvoice } from '../src/invoices/create-invoice.ts';
import { addWallet } from '../src/wallets/wallet-service.ts';
import { type Row, row } from './lib.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WATCHED = 1_000_000;
const LOGS = 10_000;
const WATCHED_SHARE = 0.01;
const NETWORK = 'evm-devnet';
const POLL_MS = 100;
const ROUNDS = 30;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] as number;

function timesPerSecond(work: () => unknown): number {
  work();
  const start = performance.now();
  const end = start + SECONDS * 1000;
  let n = 0;
  while (performance.now() < end) {
    work();
    n += 1;
  }
  return n / ((performance.now() - start) / 1000);
}

const word = (hex: string) => `0x${hex.padStart(64, '0')}`;

/**
 * Transfer logs matched per second against 1,000,000 watched addresses: matchTransferLogs() (shape
 * checks, allow-list, recipient lookup, uint256 amount) over 10,000 logs of which 1 % pay a watched
 * address, beside a bare Map lookup of the same recipients (the least matching can cost).
 */
function benchLogMatching(): Row[] {
  const watchSet = new EvmWatchSet();
  const watched: string[] = [];
  for (let i = 0; i < WATCHED; i++) {
    const address = randomBytes(20).toString('hex');
    watched.push(address);
    watchSet.add(`0x${address}`, { optionId: `opt_${i}`, network: 'polygon', asset: 'USDC' });
  }
  const usdc = findAsset('USDC', 'polygon')?.contract?.toLowerCase();
  if (!usdc) throw new Error('the registry has no USDC on polygon');
  const tokens = new Map(
    listAssets()
      .filter((a) => a.network === 'polygon' && a.contract)
      .map((a) => [(a.contract as string).toLowerCase(), a]),
  );
  const logs: EvmLog[] = [];
  for (let i = 0; i < LOGS; i++) {
    const to =
      i % Math.round(1 / WATCHED_SHARE) === 0 ? (watched[i] as string) : randomBytes(20).toString('hex');
    logs.push({
      address: usdc,
      topics: [TRANSFER_TOPIC, word(randomBytes(20).toString('hex')), word(to)],
      data: word((BigInt(i + 1) * 1_000_000n).toString(16)),
      blockNumber: 1,
      blockHash: '0xb',
      transactionHash: `0x${i.toString(16)}`,
      logIndex: i,
    });
  }
  const expected = matchTransferLogs('polygon', logs, tokens, watchSet).length;
  if (expected !== LOGS * WATCHED_SHARE)
    throw new Error(`matched ${expected}, expected ${LOGS * WATCHED_SHARE}`);
  const plain = new Map(watched.map((a, i) => [a, i]));
  const ours = timesPerSecond(() => matchTransferLogs('polygon', logs, tokens, watchSet)) * LOGS;
  const bare =
    timesPerSecond(() => {
      let hits = 0;
      for (const log of logs) if (plain.has((log.topics[2] as string).slice(26))) hits += 1;
      return hits;
    }) * LOGS;
  return [
    row(
      'transfer_logs_matched_1m_watched',
      ours,
      'logs/s',
      'bare_map_lookup_of_recipients',
      bare,
      '>= 100000 logs/s',
      ours >= 100_000,
    ),
  ];
}

async function until(what: string, ms: number, done: () => boolean): Promise<void> {
  const end = performance.now() + ms;
  while (!done()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

/**
 * End to end against a real anvil: a Tally on a temp SQLite file with its EVM watcher on the real
 * timer loop (POLL_MS), an invoice in test USDC, its transfer sent while automine is off (pending),
 * then the time from `evm_mine` until the invoice row reads `paid` (one confirmation, the devnet
 * default), read every ~1 ms on a separate read-only connection. A random pause before each block
 * spreads it over the poll cycle. Baseline: the node's own eth_getLogs round trip for that block.
 */
async function benchBlockToPaid(): Promise<Row[]> {
  const anvil = await startAnvil({ chainId: getNetwork(NETWORK).chainId as number });
  const rpc = new EvmRpc({ urls: [anvil.url] });
  const dir = mkdtempSync(join(tmpdir(), 'tally-bench-evm-'));
  const path = join(dir, 'tally.db');
  const tally = await openTally(loadConfig({}, { databaseUrl: path, logLevel: 'warn' }), {
    log: pino({ level: 'warn' }),
  });
  const watcher = new EvmWatcher(tally, {
    network: NETWORK,
    node: new EvmNode(new EvmRpc({ urls: [anvil.url] }), getNetwork(NETWORK)),
    pollIntervalMs: POLL_MS,
  });
  const probe = new SQLite(path, { readonly: true });
  const latencies: number[] = [];
  const getLogs: number[] = [];
  try {
    await prepareActors(rpc);
    const usdc = await deployToken(rpc, { name: 'Test USDC', symbol: 'USDC', decimals: 6 });
    await deployToken(rpc, { name: 'Test USDT', symbol: 'USDT', decimals: 6 });
    await mint(rpc, usdc, DEV_ACCOUNTS.customer, 10n ** 15n);
    const merchant = await createMerchant(tally.database.db, 'Bench Store', tally.clock.now());
    await addWallet(tally, merchant.id, { scope: 'evm', xpub: DEV_EVM_XPUB });
    watcher.start();
    const statusOf = probe.prepare<[string], string>('select status from invoices where id = ?').pluck();
    for (let round = 1; round <= ROUNDS; round++) {
      const invoice = await createInvoice(tally, merchant.id, {
        price: { amount: '1.00', currency: 'USDC' },
        payment_options: [{ asset: 'USDC', network: NETWORK }],
      });
      const option = invoice.payment_options[0]!;
      await until(
        'the watch set to load the address',
        10_000,
        () => watcher.status().watchedAddresses >= round,
      );
      await rpc.call('evm_setAutomine', [false]);
      const pending = transferToken(
        rpc,
        usdc,
        DEV_ACCOUNTS.customer,
        option.address,
        BigInt(option.amount_due_base_units),
      );
      await sleep(20 + Math.random() * POLL_MS);
      const start = performance.now();
      await rpc.call('evm_mine', []);
      await until('paid', 10_000, () => statusOf.get(invoice.id) === 'paid');
      latencies.push(performance.now() - start);
      const sent = await pending;
      await rpc.call('evm_setAutomine', [true]);
      const asked = performance.now();
      const height = `0x${sent.blockNumber.toString(16)}`;
      await rpc.call('eth_getLogs', [
        { fromBlock: height, toBlock: height, address: [usdc], topics: [TRANSFER_TOPIC] },
      ]);
      getLogs.push(performance.now() - asked);
    }
  } finally {
    await watcher.stop();
    probe.close();
    await tally.database.close();
    await anvil.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  latencies.sort((a, b) => a - b);
  getLogs.sort((a, b) => a - b);
  return (['p50', 'p95', 'max'] as const).map((label) => {
    const p = label === 'max' ? 1 : Number(label.slice(1)) / 100;
    const value = percentile(latencies, p);
    return row(
      `mined_block_to_paid_poll${POLL_MS}ms_${label}`,
      value,
      `ms (${ROUNDS} blocks)`,
      `anvil_eth_getLogs_rtt_${label}`,
      percentile(getLogs, p),
      label === 'p50' ? '<= 250 ms' : 'informational',
      label === 'p50' ? value <= 250 : true,
    );
  });
}

/** EVM benchmarks (issue 4), each beside a baseline from the same run. */
export async function benchEvm(): Promise<Row[]> {
  const matching = benchLogMatching();
  return [...matching, ...(await benchBlockToPaid())];
}
