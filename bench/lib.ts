import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

export interface Row {
  metric: string;
  value: number;
  unit: string;
  baseline_metric: string;
  baseline_value: number;
  ratio: number;
  target: string;
  met: boolean;
}

export function row(
  metric: string,
  value: number,
  unit: string,
  baselineMetric: string,
  baselineValue: number,
  target: string,
  met: boolean,
): Row {
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    metric,
    value: round(value),
    unit,
    baseline_metric: baselineMetric,
    baseline_value: round(baselineValue),
    ratio: round(value / baselineValue),
    target,
    met,
  };
}

export async function startServer(
  args: string[],
): Promise<{ url: string; token: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/serve.ts', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (line.startsWith('{')) {
      const ready = JSON.parse(line) as { url: string; token: string };
      return { ...ready, child };
    }
  }
  throw new Error('benchmark server exited before it was ready');
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Requests sent in all (autocannon counts them whatever their answer). */
  total: number;
}

/** 50 connections POSTing invoice bodies for `seconds`; each request a distinct body. */
export async function load(
  url: string,
  token: string,
  seconds: number,
  connections = 50,
): Promise<LoadResult> {
  let n = 0;
  const result = await autocannon({
    url: `${url}/v1/invoices`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    requests: [
      {
        setupRequest: (req) => {
          n += 1;
          return {
            ...req,
            body: JSON.stringify({
              price: { amount: '10.00', currency: 'USD' },
              merchant_order_id: `bench-${n}`,
              payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
            }),
          };
        },
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.sent,
  };
}

export function printTable(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  console.table(
    rows.map((r) => ({
      metric: r.metric,
      value: `${r.value} ${r.unit}`,
      baseline: `${r.baseline_metric} = ${r.baseline_value}`,
      ratio: r.ratio,
      target: r.target,
      met: r.met,
    })),
  );
}

/** Stops a benchmark server and waits until it is gone (before its database is dropped). */
export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  await exited;
}
