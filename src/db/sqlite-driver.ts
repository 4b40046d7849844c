import type SQLite from 'better-sqlite3';
import { CompiledQuery, type DatabaseConnection, type Driver, type QueryResult, SqliteDialect } from 'kysely';

/**
 * Kysely's SQLite driver guards its single connection with a mutex that wakes every waiter on each
 * release (`while (promise) await promise`): with N requests waiting that is O(N²) wake-ups, and a
 * CPU profile of 2,000 concurrent invoice creations showed it costing more than the queries. This
 * driver hands the connection to waiters in FIFO order, one wake-up each, and caches prepared
 * statements by SQL text (Kysely prepares every query anew, which cost ~40% of query time).
 */
class FifoSqliteDriver implements Driver {
  private readonly waiters: Array<() => void> = [];
  private busy = false;
  private readonly connection: DatabaseConnection;

  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly begin: 'begin immediate' | 'begin',
  ) {
    const statements = new Map<string, SQLite.Statement>();
    const prepare = (text: string): SQLite.Statement => {
      let statement = statements.get(text);
      if (!statement) {
        statement = sqlite.prepare(text);
        if (statements.size < 2000) statements.set(text, statement);
      }
      return statement;
    };
    this.connection = {
      async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
        const statement = prepare(query.sql);
        const parameters = query.parameters as unknown[];
        if (statement.reader) return { rows: statement.all(...parameters) as R[] };
        const { changes, lastInsertRowid } = statement.run(...parameters);
        return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
      },
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
    this.sqlite.close();
  }
}

/** Kysely's SQLite dialect (compiler, adapter, introspector) with the driver above. */
export class FifoSqliteDialect extends SqliteDialect {
  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly role: 'writer' | 'reader',
  ) {
    super({ database: sqlite });
  }

  override createDriver(): Driver {
    return new FifoSqliteDriver(this.sqlite, this.role === 'writer' ? 'begin immediate' : 'begin');
  }
}
