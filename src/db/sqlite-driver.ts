import type SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import type { CheckedStatement, SqliteWriter, Statement, WriterResult } from './sqlite-writer.ts';

type Execute = (query: CompiledQuery) => Promise<QueryResult<unknown>>;

/**
 * Kysely's SQLite driver guards its single connection with a mutex that wakes every waiter on each
 * release (`while (promise) await promise`): with N requests waiting that is O(N²) wake-ups, and a
 * CPU profile of 2,000 concurrent invoice creations showed it costing more than the queries. This
 * driver hands the connection to waiters in FIFO order, one wake-up each.
 */
class FifoSqliteDriver implements Driver {
  private readonly waiters: Array<() => void> = [];
  private busy = false;
  private readonly connection: DatabaseConnection;

  constructor(
    execute: Execute,
    private readonly begin: 'begin immediate' | 'begin',
    private readonly close: () => Promise<void>,
  ) {
    this.connection = {
      executeQuery: execute as DatabaseConnection['executeQuery'],
      streamQuery() {
        throw new Error('streaming is not used with SQLite here');
      },
    };
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.busy) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.busy = true;
    return this.connection;
  }

  async releaseConnection(): Promise<void> {
    const next = this.waiters.shift();
    if (next) next();
    else this.busy = false;
  }

  /**
   * IMMEDIATE takes the write lock at BEGIN. A deferred BEGIN that reads first and writes later
   * fails with SQLITE_BUSY_SNAPSHOT (not retried by busy_timeout) if another process — say the
   * `tally` CLI against the same file — committed in between, failing the whole batch. The
   * query-only reader connection begins deferred: it never takes the write lock.
   */
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(this.begin));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async destroy(): Promise<void> {
    await this.close();
  }
}

/** Kysely's SQLite compiler, adapter and introspector with the FIFO driver over `execute`. */
class FifoSqliteDialect implements Dialect {
  constructor(private readonly driver: () => Driver) {}
  createDriver(): Driver {
    return this.driver();
  }
  createAdapter() {
    return new SqliteAdapter();
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
  // biome-ignore lint/suspicious/noExplicitAny: Kysely's own dialects take Kysely<any> here.
  createIntrospector(db: Kysely<any>) {
    return new SqliteIntrospector(db);
  }
}

/**
 * The query-only reader, in this thread: reads are short and never fsync. Statements are cached by
 * SQL text (Kysely prepares every query anew, which cost ~40% of query time).
 */
export function readerDialect(sqlite: SQLite.Database): Dialect {
  const statements = new Map<string, SQLite.Statement>();
  const execute: Execute = async (query) => {
    let statement = statements.get(query.sql);
    if (!statement) {
      statement = sqlite.prepare(query.sql);
      if (statements.size < 2000) statements.set(query.sql, statement);
    }
    const parameters = query.parameters as unknown[];
    if (statement.reader) return { rows: statement.all(...parameters) };
    const { changes, lastInsertRowid } = statement.run(...parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  };
  return new FifoSqliteDialect(
    () =>
      new FifoSqliteDriver(execute, 'begin', async () => {
        sqlite.close();
      }),
  );
}

/**
 * The SQL text that marks a statement batch (see statementBatch). Not valid SQL on purpose: sent to
 * any other driver by mistake it fails loudly instead of silently writing nothing.
 */
export const STATEMENT_BATCH = 'TALLY STATEMENT BATCH';

/**
 * Statements to run in order on the writer thread in one hop, for a caller that needs none of
 * their results (only to know that all succeeded). Run it with `trx.executeQuery(…)` on a SQLite
 * writer transaction.
 */
export function statementBatch(queries: readonly CompiledQuery[]): CompiledQuery {
  return CompiledQuery.raw(STATEMENT_BATCH, [...queries]);
}

/** The writer connection for Kysely, and whole transactions sent past Kysely in one message. */
export interface WriterAccess {
  dialect: Dialect;
  /**
   * Runs the statements as one transaction on the writer thread and resolves once committed. The
   * connection is held only while the message is posted, not while it runs: the thread answers
   * messages in order, so whoever takes the connection next queues behind this COMMIT, and the
   * caller can prepare (and post) its next transaction while this one executes.
   */
  transaction(statements: readonly CheckedStatement[]): Promise<void>;
}

/** The writing connection, on the writer thread (sqlite-writer.ts). */
export function writerAccess(writer: SqliteWriter): WriterAccess {
  // BEGIN is held back and sent with the transaction's first statement: one hop fewer per
  // transaction (a hop to the thread costs more than most statements). A transaction that ran no
  // statement never reached the thread, so its COMMIT or ROLLBACK has nothing to end. If the BEGIN
  // fails (busy), the first statement's message fails with it, and the ROLLBACK that follows finds
  // no transaction: that error is expected and dropped, so the caller sees the BEGIN's error.
  let heldBegin: Statement | null = null;
  let rollbackMayFindNone = false;
  const execute: Execute = async (query) => {
    if (query.sql === BEGIN_WRITE) {
      heldBegin = { sql: query.sql, parameters: [] };
      return { rows: [] };
    }
    const prelude = heldBegin ? [heldBegin] : [];
    heldBegin = null;
    if (prelude.length > 0 && (query.sql === 'commit' || query.sql === 'rollback')) return { rows: [] };
    if (query.sql === 'rollback' && rollbackMayFindNone) {
      rollbackMayFindNone = false;
      await writer.execute('rollback', []).catch((error: unknown) => {
        if (!/no transaction is active/.test(String((error as Error).message))) throw error;
      });
      return { rows: [] };
    }
    rollbackMayFindNone = false;
    try {
      if (query.sql === STATEMENT_BATCH) {
        await writer.executeBatch([...prelude, ...(query.parameters as CompiledQuery[])]);
        return { rows: [] };
      }
      return toQueryResult(await writer.execute(query.sql, query.parameters, prelude));
    } catch (error) {
      if (prelude.length > 0) rollbackMayFindNone = true;
      throw error;
    }
  };
  const driver = new FifoSqliteDriver(execute, BEGIN_WRITE, () => writer.close());
  return {
    dialect: new FifoSqliteDialect(() => driver),
    transaction: async (statements) => {
      await driver.acquireConnection();
      let committed: Promise<unknown>;
      try {
        committed = writer.executeTransaction(statements);
      } finally {
        await driver.releaseConnection();
      }
      await committed;
    },
  };
}

const BEGIN_WRITE = 'begin immediate';

function toQueryResult(result: WriterResult): QueryResult<unknown> {
  if (result.changes === undefined) return { rows: result.rows };
  return {
    numAffectedRows: BigInt(result.changes),
    insertId: result.lastInsertRowid ?? 0n,
    rows: result.rows,
  };
}
