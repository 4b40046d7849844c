import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { postgresInsertRate, sqliteInsertRate } from './db-baselines.ts';
import { type LoadResult, load, type Row, row, startServer, stopServer } from './lib.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/**
 * Every HTTP server (the bare endpoint and each gateway) takes this much load before its measured
 * run, and the warm-up's figures are dropped: a freshly started process spends its first seconds
 * compiling its hot code (measured on the gateway: V8's compiler threads took 40 µs of CPU per
 * invoice over a cold 8 s run, 9 µs after a 5 s warm-up), and a gateway runs warm for days.
 */
const WARM_UP_SECONDS = 5;
const POOL_SIZE = 10;
/** TALLY_ADDRESS_POOL_TARGET's upper bound (src/config.ts). */
const MAX_POOL = 1_000_000;
const ADMIN_URL = process.env.TALLY_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function freshPgUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `tally_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** PostgreSQL's bare insert rate, in a database of its own. */
async function pgInsertRate(): Promise<number> {
  const base = await freshPgUrl();
  try {
    return await postgresInsertRate(base.url, SECONDS, POOL_SIZE);
  } finally {
    await base.drop();
  }
}

/** Invoice creation over HTTP with 50 connections on each database, beside same-run baselines. */
export async function benchCore(): Promise<Row[]> {
  const rows: Row[] = [];
  const bare = await startServer(['bare']);
  await load(bare.url, '', WARM_UP_SECONDS);
  const bareLoad = await load(bare.url, '', SECONDS);
  await stopServer(bare.child);
  // Enough pre-derived addresses for the run: past the pool, allocation derives inline and the
  // figure would measure key derivation (the Bitcoin benchmark's subject), not invoice creation.
  // 15,000/s is above anything this machine's SQLite can commit; checked after each run.
  const poolSize = Math.ceil((WARM_UP_SECONDS + SECONDS) * 15_000);
  if (poolSize > MAX_POOL)
    throw new Error(
      `BENCH_SECONDS=${SECONDS} needs a ${poolSize}-address pool; the gateway allows ${MAX_POOL} (at most ${MAX_POOL / 15_000 - WARM_UP_SECONDS} s)`,
    );
  const pool = String(poolSize);
  /** Warms the gateway up, then measures it; checks that both runs together stayed inside the pool. */
  const measure = async (server: { url: string; token: string }, database: string): Promise<LoadResult> => {
    const warmUp = await load(server.url, server.token, WARM_UP_SECONDS);
    const result = await load(server.url, server.token, SECONDS);
    for (const run of [warmUp, result])
      if (run.non2xx > 0 || run.errors > 0)
        throw new Error(`${database} run had ${run.non2xx} non-2xx and ${run.errors} errors`);
    if (warmUp.total + result.total >= poolSize)
      throw new Error(
        `${database} runs sent ${warmUp.total + result.total} requests, past the ${poolSize}-address pool`,
      );
    return result;
  };

  // Each database's baseline is measured before and after its gateway run and averaged: on this
  // shared machine a baseline drifted by up to 20% within an hour, which alone moved the ratio.
  const dir = mkdtempSync(join(tmpdir(), 'tally-bench-'));
  const sqliteBefore = sqliteInsertRate(SECONDS);
  const sqlite = await startServer(['gateway', join(dir, 'tally.db'), pool]);
  const sqliteLoad = await measure(sqlite, 'sqlite');
  await stopServer(sqlite.child);
  rmSync(dir, { recursive: true, force: true });
  const sqliteBase = (sqliteBefore + sqliteInsertRate(SECONDS)) / 2;
  rows.push(
    row(
      'invoice_create_sqlite',
      sqliteLoad.rps,
      'req/s',
      'sqlite_durable_insert_per_txn',
      sqliteBase,
      '>= 1.0 ratio',
      sqliteLoad.rps / sqliteBase >= 1.0,
    ),
  );
  rows.push(
    row(
      'invoice_create_sqlite_p99',
      sqliteLoad.p99,
      'ms',
      'bare_fastify_json_p99',
      bareLoad.p99,
      '<= 25 ms',
      sqliteLoad.p99 <= 25,
    ),
  );

  const pgBefore = await pgInsertRate();
  const db = await freshPgUrl();
  const postgres = await startServer(['gateway', db.url, pool, String(POOL_SIZE)]);
  const pgLoad = await measure(postgres, 'postgres');
  await stopServer(postgres.child);
  await db.drop();
  const pgBase = (pgBefore + (await pgInsertRate())) / 2;
  rows.push(
    row(
      'invoice_create_postgres',
      pgLoad.rps,
      'req/s',
      'postgres_insert_per_statement_pool10',
      pgBase,
      '>= 0.6 ratio',
      pgLoad.rps / pgBase >= 0.6,
    ),
  );
  rows.push(
    row(
      'invoice_create_postgres_p99',
      pgLoad.p99,
      'ms',
      'bare_fastify_json_p99',
      bareLoad.p99,
      '<= 25 ms',
      pgLoad.p99 <= 25,
    ),
  );
  rows.push(
    row(
      'invoice_create_sqlite_vs_bare_http',
      sqliteLoad.rps,
      'req/s',
      'bare_fastify_json',
      bareLoad.rps,
      'informational',
      true,
    ),
  );
  return rows;
}
