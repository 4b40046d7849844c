import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { type Database, openDatabase } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrate.ts';

/**
 * The repository suites run against both databases. SQLite: a real file in a temp dir.
 * PostgreSQL: the server at TALLY_TEST_PG_ADMIN_URL (scripts/test.sh sets it and starts the
 * server if needed); each test file gets a fresh database, dropped afterwards. If no server can
 * be reached the PostgreSQL leg FAILS: it never skips silently.
 */
export const ADMIN_URL = process.env.TALLY_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: 'sqlite' | 'postgres';
  url: string;
  drop(): Promise<void>;
}

export async function freshSqlite(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-test-'));
  return {
    name: 'sqlite',
    url: join(dir, 'tally.db'),
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function freshPostgres(): Promise<TestDatabase> {
  const dbName = `tally_test_${Date.now()}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is required for the repository tests and is not reachable at ${ADMIN_URL}: ${String(error)}. Run the suite with "npm test", which starts it.`,
    );
  }
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  return {
    name: 'postgres',
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await c.end();
    },
  };
}

export const DATABASES = [
  { name: 'sqlite', fresh: freshSqlite },
  { name: 'postgres', fresh: freshPostgres },
] as const;

/**
 * A fresh, migrated database opened for each test (`each`) or once for the describe block
 * (`all`), closed and dropped afterwards. Read `handle.database` and `handle.testDb` inside tests.
 */
export function useMigratedDatabase(
  fresh: () => Promise<TestDatabase>,
  scope: 'each' | 'all' = 'each',
): { readonly database: Database; readonly testDb: TestDatabase } {
  let testDb: TestDatabase | undefined;
  let database: Database | undefined;
  const [before, after] = scope === 'each' ? [beforeEach, afterEach] : [beforeAll, afterAll];
  before(async () => {
    testDb = await fresh();
    database = openDatabase({ url: testDb.url });
    await migrate(database);
  });
  after(async () => {
    await database?.close();
    await testDb?.drop();
  });
  return {
    get database() {
      if (!database) throw new Error('the database opens in a before hook');
      return database;
    },
    get testDb() {
      if (!testDb) throw new Error('the database opens in a before hook');
      return testDb;
    },
  };
}
