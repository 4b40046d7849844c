/**
 * The invoice batch's statement as a named prepared statement on PostgreSQL (decision 0020): a
 * text is named once it recurs, and parsed once per session after that; the same text keeps its
 * name; a session that lost the statement (a pooler without prepared-statement support, simulated
 * with DEALLOCATE ALL) or already holds its name costs one unnamed retry and switches naming off,
 * never a failed write; other errors still fail the statement.
 */
import { createHash } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_NAMES, NAME_AFTER, PgPreparedRunner } from '../../src/db/pg-prepared.ts';
import { freshPostgres, type TestDatabase } from '../helpers/databases.ts';

describe('PgPreparedRunner', () => {
  let testDb: TestDatabase;
  // Each test gets a pool of one connection: a session of its own, in which every query below runs.
  // (A DEALLOCATE between tests would not do: the driver remembers what it prepared, which is the
  // lost-statement case tested below.)
  let pool: pg.Pool;

  beforeAll(async () => {
    testDb = await freshPostgres();
    const setup = new pg.Pool({ connectionString: testDb.url, max: 1 });
    await setup.query('create table notes (id integer primary key, body text not null)');
    await setup.end();
  });
  beforeEach(async () => {
    pool = new pg.Pool({ connectionString: testDb.url, max: 1 });
    await pool.query('truncate notes');
  });
  afterEach(async () => pool?.end());
  afterAll(async () => testDb?.drop());

  const insert = (id: number, body = 'x') =>
    sql`insert into notes (id, body) values (${id}, ${body})`.compile(COMPILER);
  const prepared = async () =>
    (
      await pool.query<{ name: string; statement: string }>(
        'select name, statement from pg_prepared_statements',
      )
    ).rows;
  const count = async () => Number((await pool.query('select count(*) as n from notes')).rows[0].n);

  /** Runs `count` inserts of the same text with ids from `from`. */
  const insertMany = async (runner: PgPreparedRunner, from: number, count: number) => {
    for (let i = 0; i < count; i++) await runner.execute(insert(from + i));
  };

  it('names a text once it recurs, then runs it by name in that session', async () => {
    const runner = new PgPreparedRunner(pool, true);
    await insertMany(runner, 1, NAME_AFTER - 1);
    expect(await prepared()).toEqual([]);
    await insertMany(runner, NAME_AFTER, 3);
    const statements = await prepared();
    expect(statements).toHaveLength(1);
    expect(statements[0]?.name).toMatch(/^tally_[0-9a-f]{32}$/);
    expect(statements[0]?.statement).toBe(insert(1).sql);
    expect(await count()).toBe(NAME_AFTER + 2);
  });

  it('gives each distinct text its own name, and a new runner the same name for the same text', async () => {
    const first = new PgPreparedRunner(pool, true);
    await insertMany(first, 1, NAME_AFTER);
    for (let i = 0; i < NAME_AFTER; i++)
      await first.execute(sql`insert into notes (body, id) values (${'y'}, ${100 + i})`.compile(COMPILER));
    const before = await prepared();
    expect(new Set(before.map((s) => s.name)).size).toBe(2);
    const nameOfInsert = before.find((s) => s.statement === insert(1).sql)?.name;
    expect(nameOfInsert).toBeDefined();
    // A new session and a new runner (another gateway process, say).
    await pool.end();
    pool = new pg.Pool({ connectionString: testDb.url, max: 1 });
    await insertMany(new PgPreparedRunner(pool, true), 200, NAME_AFTER);
    expect((await prepared()).map((s) => s.name)).toEqual([nameOfInsert]);
  });

  it('runs statements unnamed when turned off', async () => {
    const runner = new PgPreparedRunner(pool, false);
    await insertMany(runner, 1, NAME_AFTER + 1);
    expect(await prepared()).toEqual([]);
    expect(await count()).toBe(NAME_AFTER + 1);
    expect(runner.named).toBe(false);
  });

  it('retries unnamed once a session has lost the statement, and names nothing after that', async () => {
    const warnings: string[] = [];
    const runner = new PgPreparedRunner(pool, true, (m) => warnings.push(m));
    await insertMany(runner, 1, NAME_AFTER);
    expect(await prepared()).toHaveLength(1);
    // The driver still believes the session holds it, as behind a pooler that swapped sessions.
    await pool.query('deallocate all');
    await runner.execute(insert(100));
    expect(await count()).toBe(NAME_AFTER + 1);
    expect(runner.named).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/26000.*TALLY_PG_PREPARED_STATEMENTS=off/);
    await insertMany(runner, 200, NAME_AFTER);
    expect(await prepared()).toEqual([]);
    expect(await count()).toBe(2 * NAME_AFTER + 1);
  });

  it('retries unnamed when the session already holds the name (another client prepared it)', async () => {
    const text = insert(1).sql;
    const name = `tally_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    await pool.query(`prepare ${name} (integer, text) as ${text}`);
    const warnings: string[] = [];
    const runner = new PgPreparedRunner(pool, true, (m) => warnings.push(m));
    await insertMany(runner, 1, NAME_AFTER);
    expect(await count()).toBe(NAME_AFTER);
    expect(warnings[0]).toMatch(/42P05/);
    expect(runner.named).toBe(false);
  });

  it('fails a statement on any other error, writing nothing, and keeps naming on', async () => {
    const warnings: string[] = [];
    const runner = new PgPreparedRunner(pool, true, (m) => warnings.push(m));
    await insertMany(runner, 1, NAME_AFTER);
    await expect(runner.execute(insert(1, 'again'))).rejects.toMatchObject({ code: '23505' });
    expect(await prepared()).toHaveLength(1);
    expect(await count()).toBe(NAME_AFTER);
    expect(runner.named).toBe(true);
    expect(warnings).toEqual([]);
  });

  it(`names at most ${MAX_NAMES} recurring texts, and runs the rest unnamed`, async () => {
    const runner = new PgPreparedRunner(pool, true);
    // Texts that differ by a constant alias: each is a distinct statement, sent NAME_AFTER times.
    const distinct = (i: number, id: number) =>
      sql`insert into notes (id, body) select ${id}, ${'z'} as ${sql.ref(`c${i}`)}`.compile(COMPILER);
    let id = 0;
    for (let i = 0; i < MAX_NAMES + 5; i++)
      for (let n = 0; n < NAME_AFTER; n++) await runner.execute(distinct(i, id++));
    // One more text seen only once: never named.
    await runner.execute(insert(id++));
    expect(await prepared()).toHaveLength(MAX_NAMES);
    expect(await count()).toBe(id);
  });
});

/** Compiles SQL with PostgreSQL's placeholders ($1, $2, …); it never connects. */
const COMPILER = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool() }) });
