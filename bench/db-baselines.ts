import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';

/** SQLite's bare durable insert rate: WAL + synchronous=FULL, one transaction (one fsync) per row. */
export function sqliteInsertRate(seconds: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'tally-bench-'));
  const db = new SQLite(join(dir, 'bare.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('create table t (id integer primary key, body text not null)');
  const insert = db.prepare('insert into t (body) values (?)');
  const end = Date.now() + seconds * 1000;
  let n = 0;
  while (Date.now() < end) {
    db.transaction(() => insert.run('x'.repeat(200)))();
    n += 1;
  }
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return n / seconds;
}

/** PostgreSQL's bare insert rate: one autocommit statement per row, 50 concurrent callers on a pool of `poolSize`. */
export async function postgresInsertRate(url: string, seconds: number, poolSize: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // pool.end() resolves before every socket is closed; the database is dropped right after.
  pool.on('error', () => {});
  await pool.query('create table if not exists bench_bare (id bigserial primary key, body text not null)');
  const end = Date.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (Date.now() < end) {
        await pool.query('insert into bench_bare (body) values ($1)', ['x'.repeat(200)]);
        n += 1;
      }
    }),
  );
  await pool.end();
  return n / seconds;
}
