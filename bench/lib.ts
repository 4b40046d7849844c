import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

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
  /** Requests answered in all, whatever their answer. */
  total: number;
}

const run = promisify(execFile);
const WRK_SCRIPT = new URL('./wrk/create-invoices.lua', import.meta.url).pathname;
const INSTALL_WRK = new URL('../scripts/install-wrk.sh', import.meta.url).pathname;
let wrkPath: Promise<string> | undefined;

/** wrk's path, installed on first use by the project's pinned, idempotent script. */
function wrk(): Promise<string> {
  wrkPath ??= run('bash', [INSTALL_WRK]).then(({ stdout }) => stdout.trim().split('\n').at(-1) ?? 'wrk');
  return wrkPath;
}

/**
 * 50 connections POSTing invoice bodies for `seconds`, each request a distinct body, driven by wrk
 * (bench/wrk/create-invoices.lua): a C load generator that costs ~11 µs of CPU per request here,
 * where autocannon cost 35–77 µs, CPU taken from the server under test on this 2-core machine
 * (decision 0017).
 */
export async function load(
  url: string,
  token: string,
  seconds: number,
  connections = 50,
): Promise<LoadResult> {
  const { stdout } = await run(await wrk(), [
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--timeout',
    '10s',
    '-s',
    WRK_SCRIPT,
    `${url}/v1/invoices`,
    '--',
    token,
  ]);
  const line = stdout.split('\n').find((l) => l.startsWith('{"requests"'));
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  const r = JSON.parse(line) as {
    requests: number;
    duration_us: number;
    non2xx: number;
    errors: number;
    p50_us: number;
    p99_us: number;
  };
  return {
    rps: r.requests / (r.duration_us / 1e6),
    p50: r.p50_us / 1000,
    p99: r.p99_us / 1000,
    non2xx: r.non2xx,
    errors: r.errors,
    total: r.requests,
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
