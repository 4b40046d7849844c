/**
 * Webhook delivery benchmarks (bench/results/webhooks.json), on SQLite and PostgreSQL:
 * - signed deliveries per second to a local receiver with the attempt log written, beside a bare
 *   keep-alive HTTP POST loop to the same receiver at the same concurrency (same run);
 * - event committed → delivered latency with a healthy receiver and an idle worker, beside the
 *   bare POST round trip to the same receiver.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import pino from 'pino';
import { createMerchant } from '../src/auth/merchants.ts';
import { openTally } from '../src/bootstrap.ts';
import { loadConfig } from '../src/config.ts';
import type { Tally } from '../src/context.ts';
import { eventRow } from '../src/invoices/effect-rows.ts';
import { DeliveryWorker } from '../src/webhooks/delivery-worker.ts';
import { createEndpoint } from '../src/webhooks/endpoint-service.ts';
import { freshPgUrl } from './core.ts';
import { type Row, row } from './lib.ts';

const DELIVERIES = Number(process.env.BENCH_WEBHOOKS ?? 6000);
const LATENCY_SAMPLES = 200;
const BODY = JSON.stringify({
  data: { invoice: { id: 'inv_x', status: 'paid', amount_paid: '0.00015385' } },
});

interface Receiver {
  child: ChildProcess;
  port: number;
  lines: Interface;
}

async function startReceiver(log: boolean): Promise<Receiver> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/webhook-receiver.ts', log ? 'log' : ''], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) return { child, port: (JSON.parse(line) as { port: number }).port, lines };
  throw new Error('receiver exited');
}

async function stopReceiver(r: Receiver): Promise<void> {
  const exited = once(r.child, 'exit');
  r.child.kill('SIGINT');
  await exited;
}

function post(agent: http.Agent, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/hooks',
        agent,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve());
      },
    );
    req.on('error', reject);
    req.end(BODY);
  });
}

/** The same receiver, `n` bare POSTs over `concurrency` keep-alive connections. */
async function barePostRate(port: number, n: number, concurrency: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let left = n;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await post(agent, port);
    }),
  );
  agent.destroy();
  return n / ((performance.now() - started) / 1000);
}

async function bareRoundTripP50(port: number, samples: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await post(agent, port);
    times.push(performance.now() - t);
  }
  agent.destroy();
  return percentile(times, 0.5);
}

const progress = (message: string) => process.stderr.write(`webhooks: ${message}\n`);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

async function gateway(databaseUrl: string): Promise<{ tally: Tally; merchantId: string }> {
  const config = loadConfig({}, { databaseUrl, logLevel: 'silent', webhookAllowedNetworks: '127.0.0.1' });
  const tally = await openTally(config, { log: pino({ level: 'silent' }) });
  const merchant = await createMerchant(tally.database.db, 'Bench', new Date());
  return { tally, merchantId: merchant.id };
}

async function count(tally: Tally, status: string): Promise<number> {
  const r = await tally.database.db
    .selectFrom('webhook_deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', status)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Deliveries/s: N events already committed, then the worker sequences, fans out, sends, logs. */
async function throughput(databaseUrl: string): Promise<{ rate: number; bare: number; concurrency: number }> {
  const receiver = await startReceiver(false);
  progress('receiver up');
  const { tally, merchantId } = await gateway(databaseUrl);
  progress('gateway open');
  await createEndpoint(tally, merchantId, { url: `http://127.0.0.1:${receiver.port}/hooks` });
  for (let i = 0; i < DELIVERIES; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, DELIVERIES - i) }, () =>
      eventRow(merchantId, null, 'invoice.paid', 0, JSON.parse(BODY).data, new Date()),
    );
    await tally.database.write((trx) => trx.insertInto('events').values(rows).execute());
  }
  progress(`${DELIVERIES} events committed`);
  const concurrency = tally.config.webhookEndpointConcurrency;
  const bare = await barePostRate(receiver.port, DELIVERIES, concurrency);
  progress(`bare POST loop: ${Math.round(bare)}/s`);
  const worker = new DeliveryWorker(tally);
  const started = performance.now();
  worker.start();
  // Cheap index probes (a full count every poll would stall the worker's event loop on SQLite).
  const unfinished = async () =>
    (await tally.database.read
      .selectFrom('events')
      .select('id')
      .where('position', 'is', null)
      .limit(1)
      .executeTakeFirst()) !== undefined ||
    (await tally.database.read
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .limit(1)
      .executeTakeFirst()) !== undefined;
  while (await unfinished()) await new Promise((r) => setTimeout(r, 25));
  const seconds = (performance.now() - started) / 1000;
  await worker.stop();
  const attempts = await tally.database.db
    .selectFrom('webhook_attempts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  if (Number(attempts.n) < DELIVERIES) throw new Error(`only ${attempts.n} attempts logged`);
  if ((await count(tally, 'succeeded')) !== DELIVERIES) throw new Error('not every delivery succeeded');
  await tally.database.close();
  await stopReceiver(receiver);
  return { rate: DELIVERIES / seconds, bare, concurrency };
}

/** Committed → received: one event at a time, the worker idle in between (its poll included). */
async function latency(databaseUrl: string): Promise<{ p50: number; p99: number; bareP50: number }> {
  const receiver = await startReceiver(true);
  const arrivals = new Map<string, number>();
  receiver.lines.on('line', (line) => {
    const [id, at] = line.split(' ');
    if (id && at) arrivals.set(id, Number(at));
  });
  const { tally, merchantId } = await gateway(databaseUrl);
  await createEndpoint(tally, merchantId, { url: `http://127.0.0.1:${receiver.port}/hooks` });
  const worker = new DeliveryWorker(tally);
  worker.start();
  const committed = new Map<string, number>();
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const ev = eventRow(merchantId, null, 'invoice.paid', 0, { n: i }, new Date());
    await tally.database.write((trx) => trx.insertInto('events').values(ev).execute());
    committed.set(ev.id, Date.now());
    // Spread out, not aligned with the worker's poll.
    await new Promise((r) => setTimeout(r, 15 + Math.random() * 20));
  }
  const deadline = Date.now() + 10_000;
  while (arrivals.size < LATENCY_SAMPLES && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  await worker.stop();
  await tally.database.close();
  const samples = [...committed].map(([id, at]) => (arrivals.get(id) ?? Number.NaN) - at);
  const bareP50 = await bareRoundTripP50(receiver.port, LATENCY_SAMPLES);
  await stopReceiver(receiver);
  if (samples.some(Number.isNaN)) throw new Error('some events were not delivered');
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), bareP50 };
}

export async function benchWebhooks(): Promise<Row[]> {
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tally-bench-wh-'));
  const pgThroughput = await freshPgUrl();
  const pgLatency = await freshPgUrl();
  try {
    for (const [name, urls] of [
      ['sqlite', [join(dir, 'a.db'), join(dir, 'b.db')]],
      ['postgres', [pgThroughput.url, pgLatency.url]],
    ] as const) {
      const t = await throughput(urls[0]);
      rows.push(
        row(
          `webhook_deliveries_per_s_${name}`,
          t.rate,
          'deliveries/s',
          `bare_keepalive_post_per_s_same_receiver_${t.concurrency}_conns`,
          t.bare,
          '>= 2000 deliveries/s',
          t.rate >= 2000,
        ),
      );
      const l = await latency(urls[1]);
      rows.push(
        row(
          `webhook_committed_to_delivered_p50_${name}`,
          l.p50,
          'ms',
          'bare_post_round_trip_p50_same_receiver',
          l.bareP50,
          '<= 50 ms',
          l.p50 <= 50,
        ),
      );
      rows.push(
        row(
          `webhook_committed_to_delivered_p99_${name}`,
          l.p99,
          'ms',
          'bare_post_round_trip_p50_same_receiver',
          l.bareP50,
          '(reported)',
          true,
        ),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await pgThroughput.drop();
    await pgLatency.drop();
  }
  return rows;
}
