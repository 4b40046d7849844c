import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { type CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { GroupCommitter, type WriteUnit } from './group-commit.ts';
import { PgPreparedRunner } from './pg-prepared.ts';
import { withRetryOnConflict } from './retry.ts';
import type { Schema } from './schema.ts';
import { readerDialect, writerAccess } from './sqlite-driver.ts';
import { type CheckedStatement, SqliteWriter } from './sqlite-writer.ts';
import { enterWalMode } from './wal-mode.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Database {
  /** The writing connection (SQLite) or the pool (PostgreSQL): reads and one-off writes. */
  db: Kysely<Schema>;
  /**
   * For hot read paths. On SQLite a second, query-only connection: WAL lets it read while the
   * writer holds a group-commit batch open, so request reads never queue behind a batch.
   * On PostgreSQL the same pool as `db`.
   */
  read: Kysely<Schema>;
  dialect: DialectName;
  /** Runs a unit of work in a durable transaction; resolves only once it is committed. */
  write<T>(unit: WriteUnit<T>): Promise<T>;
  /**
   * SQLite only: runs precompiled statements as one durable transaction, resolving once committed.
   * Unlike `write`, the caller need not wait for one to finish before sending the next (the writer
   * thread runs them in order), so a hot path can prepare its next batch while this one commits.
   */
  writeStatements?: (statements: readonly CheckedStatement[]) => Promise<void>;
  /**
   * PostgreSQL only: runs one statement in autocommit, as a named prepared statement unless those
   * are off (TALLY_PG_PREPARED_STATEMENTS, pg-prepared.ts). For the hot invoice-batch statement.
   */
  executePrepared?: (query: CompiledQuery) => Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** `postgres://…` for PostgreSQL; otherwise a SQLite file path (or `sqlite:` + path). */
  url: string;
  poolSize?: number;
  /** PostgreSQL: whether `executePrepared` names its statements (default true). */
  preparedStatements?: boolean;
  /** Where a warning about the database goes (the gateway's log); process warnings if not given. */
  warn?: (message: string) => void;
}

export function openDatabase(options: DatabaseOptions): Database {
  return options.url.startsWith('postgres://') || options.url.startsWith('postgresql://')
    ? openPostgres(options.url, options.poolSize ?? 10, options.preparedStatements ?? true, options.warn)
    : openSqlite(options.url.replace(/^sqlite:/, ''));
}

function openSqlite(path: string): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  // Put the file in WAL mode before either connection opens it, so both agree from the start.
  const setup = new SQLite(path);
  enterWalMode(setup);
  setup.close();
  // Writes go to the writer thread (sqlite-writer-thread.js), so commits never block request work.
  const writer = writerAccess(new SqliteWriter(path));
  const db = new Kysely<Schema>({ dialect: writer.dialect });
  const committer = new GroupCommitter(db);
  const reader = new SQLite(path);
  reader.pragma('query_only = ON');
  reader.pragma('busy_timeout = 5000');
  const read = new Kysely<Schema>({ dialect: readerDialect(reader) });
  return {
    db,
    read,
    dialect: 'sqlite',
    write: (unit) => committer.write(unit),
    writeStatements: (statements) => writer.transaction(statements),
    close: async () => {
      await read.destroy();
      await db.destroy();
    },
  };
}

function openPostgres(
  url: string,
  poolSize: number,
  preparedStatements: boolean,
  warn: ((message: string) => void) | undefined,
): Database {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle connection that the server closes (restart, failover, pg_terminate_backend) emits
  // 'error' on the pool; unhandled, that would crash the gateway. pg-pool drops the dead client and
  // the next query opens a fresh one; /readyz reports whether the database answers.
  pool.on('error', () => {});
  // pool.end() resolves once its clients are told to end, not once their connections are closed;
  // close() waits for every connection, so nothing is left open (or killed mid-close) afterwards.
  const connections = new Set<Promise<void>>();
  pool.on('connect', (client) => {
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    connections.add(ended);
    void ended.then(() => connections.delete(ended));
  });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  const prepared = new PgPreparedRunner(pool, preparedStatements, warn);
  return {
    db,
    read: db,
    dialect: 'postgres',
    executePrepared: (query) => prepared.execute(query),
    // PostgreSQL already shares WAL flushes between concurrent commits; each unit is its own transaction.
    write: (unit) => withRetryOnConflict(() => db.transaction().execute(unit)),
    close: async () => {
      await db.destroy();
      await Promise.all([...connections]);
    },
  };
}
