import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { postgresInsertRate, sqliteInsertRate } from './db-baselines.ts';
import { type LoadResult, load, type Row, row, startServer, stopServer } from './lib.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const POOL_SIZE = 10;
const ADMIN_URL = process.env.TALLY_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** The local server's Unix socket (Debian's default directory), if it has one. */
const SOCKET_DIR = '/var/run/postgresql';

/**
 * A fresh database on the benchmark server. `socket`: connect over the server's Unix socket when it
 * has one (as a gateway beside its database would), else over TCP like ADMIN_URL.
 */
export async function freshPgUrl(
  transport: 'tcp' | 'socket' = 'tcp',
): Promise<{ url: string; transport: 'tcp' | 'socket'; drop: () => Promise<void> }> {
  const name = `tally_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const socket =
    transport === 'socket' &&
    !process.env.TALLY_TEST_PG_ADMIN_URL &&
    existsSync(`${SOCKET_DIR}/.s.PGSQL.5432`);
  if (socket) url.host = encodeURIComponent(SOCKET_DIR);
  return {
    url: url.toString(),
    transport: socket ? 'socket' : 'tcp',
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** Invoice creation over HTTP with 50 connections on each database, beside same-run baselines. */
export async function benchCore(): Promise<Row[]> {
  const rows: Row[] = [];
  const bare = await startServer(['bare']);
  const bareLoad = await load(bare.url, '', SECONDS);
  await stopServer(bare.child);
  // Enough pre-derived addresses for the run; allocation falls back to inline derivation if not.
  const pool = String(Math.ceil(SECONDS * 4000));

  const dir = mkdtempSync(join(tmpdir(), 'tally-bench-'));
  const sqliteBase = sqliteInsertRate(SECONDS);
  const sqlite = await startServer(['gateway', join(dir, 'tally.db'), pool]);
  const sqliteLoad = await load(sqlite.url, sqlite.token, SECONDS);
  await stopServer(sqlite.child);
  rmSync(dir, { recursive: true, force: true });
  if (sqliteLoad.non2xx > 0 || sqliteLoad.errors > 0)
    throw new Error(`sqlite run had ${sqliteLoad.non2xx} non-2xx and ${sqliteLoad.errors} errors`);
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

  // The targets are measured over the local Unix socket when the server has one; loopback TCP is
  // reported beside them. Both baselines use the same transport as the run they are compared with.
  const pgSocket = await postgresRun('socket', pool);
  rows.push(
    row(
      `invoice_create_postgres`,
      pgSocket.load.rps,
      'req/s',
      `postgres_insert_per_statement_pool10_${pgSocket.transport}`,
      pgSocket.baseline,
      '>= 0.6 ratio',
      pgSocket.load.rps / pgSocket.baseline >= 0.6,
    ),
  );
  rows.push(
    row(
      'invoice_create_postgres_p99',
      pgSocket.load.p99,
      'ms',
      'bare_fastify_json_p99',
      bareLoad.p99,
      '<= 25 ms',
      pgSocket.load.p99 <= 25,
    ),
  );
  if (pgSocket.transport === 'socket') {
    const pgTcp = await postgresRun('tcp', pool);
    rows.push(
      row(
        'invoice_create_postgres_tcp',
        pgTcp.load.rps,
        'req/s',
        'postgres_insert_per_statement_pool10_tcp',
        pgTcp.baseline,
        'informational',
        true,
      ),
    );
    rows.push(
      row(
        'invoice_create_postgres_tcp_p99',
        pgTcp.load.p99,
        'ms',
        'bare_fastify_json_p99',
        bareLoad.p99,
        'informational',
        true,
      ),
    );
  }
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

/** The PostgreSQL baseline and invoice-creation run over one transport, each on a fresh database. */
async function postgresRun(
  transport: 'tcp' | 'socket',
  pool: string,
): Promise<{ transport: 'tcp' | 'socket'; baseline: number; load: LoadResult }> {
  const base = await freshPgUrl(transport);
  const baseline = await postgresInsertRate(base.url, SECONDS, POOL_SIZE);
  await base.drop();
  const db = await freshPgUrl(transport);
  const server = await startServer(['gateway', db.url, pool, String(POOL_SIZE)]);
  const result = await load(server.url, server.token, SECONDS);
  await stopServer(server.child);
  await db.drop();
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`postgres (${transport}) run had ${result.non2xx} non-2xx and ${result.errors} errors`);
  return { transport: base.transport, baseline, load: result };
}
