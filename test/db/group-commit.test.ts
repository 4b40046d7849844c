/**
 * The SQLite GroupCommitter: concurrent writes share one COMMIT, a failing unit rolls back alone,
 * and a resolved write is on disk — checked by SIGKILLing a process mid-burst.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.ts';
import { openDatabase } from '../../src/db/connect.ts';
import { GroupCommitter } from '../../src/db/group-commit.ts';
import { migrate } from '../../src/db/migrate.ts';
import { freshSqlite, type TestDatabase, useMigratedDatabase } from '../helpers/databases.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const WRITER = join(HERE, 'fixtures', 'burst-writer.ts');

const merchantRow = (id: string, name = 'm') => ({
  id,
  name,
  policy: '{}',
  created_at: '2026-01-01T00:00:00.000Z',
});

describe('SQLite GroupCommitter', () => {
  const handle = useMigratedDatabase(freshSqlite);

  const countMerchants = async () =>
    Number(
      (
        await handle.database.db
          .selectFrom('merchants')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('batches 100 concurrent writes into fewer commits than units', async () => {
    const committer = new GroupCommitter(handle.database.db);
    const ids = Array.from({ length: 100 }, () => newId('mer'));
    const results = await Promise.all(
      ids.map((id) =>
        committer.write(async (trx) => {
          await trx.insertInto('merchants').values(merchantRow(id)).execute();
          return id;
        }),
      ),
    );
    expect(results).toEqual(ids);
    expect(committer.units).toBe(100);
    expect(committer.batches).toBeGreaterThan(0);
    expect(committer.batches).toBeLessThan(committer.units);
    // Issued in one loop turn, they all join the first batch.
    expect(committer.batches).toBe(1);
    expect(await countMerchants()).toBe(100);

    // Writes issued while a batch commits go into the next one, not one commit each.
    const second = Array.from({ length: 50 }, (_, i) =>
      committer.write(async (trx) => {
        await trx
          .insertInto('merchants')
          .values(merchantRow(newId('mer'), `late-${i}`))
          .execute();
      }),
    );
    await Promise.all(second);
    expect(committer.units).toBe(150);
    expect(committer.batches).toBeLessThan(10);
  });

  it('splits a queue longer than maxBatch into several commits, in order', async () => {
    const committer = new GroupCommitter(handle.database.db, 10);
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 35 }, (_, i) =>
        committer.write(async (trx) => {
          order.push(i);
          await trx
            .insertInto('merchants')
            .values(merchantRow(newId('mer')))
            .execute();
        }),
      ),
    );
    expect(committer.batches).toBe(4);
    expect(order).toEqual(Array.from({ length: 35 }, (_, i) => i));
    expect(await countMerchants()).toBe(35);
  });

  it('rolls a failing unit back alone while the rest of its batch commits', async () => {
    const committer = new GroupCommitter(handle.database.db);
    const ids = Array.from({ length: 10 }, () => newId('mer'));
    const duplicate = ids[2] as string;
    const outcomes = await Promise.allSettled(
      ids.map((id, i) =>
        committer.write(async (trx) => {
          await trx
            .insertInto('merchants')
            .values(merchantRow(id, `unit-${i}`))
            .execute();
          if (i === 4) throw new Error('unit 4 failed after writing');
          if (i === 7) {
            // A SQL error (primary key clash with unit 2) after a successful write in the same unit.
            await trx.insertInto('merchants').values(merchantRow(duplicate)).execute();
          }
          return i;
        }),
      ),
    );
    expect(committer.batches).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    const failed = outcomes[4];
    expect(failed?.status === 'rejected' && (failed.reason as Error).message).toBe(
      'unit 4 failed after writing',
    );
    const clash = outcomes[7];
    expect(clash?.status === 'rejected' && String((clash.reason as Error).message)).toMatch(
      /UNIQUE|constraint/i,
    );

    const rows = await handle.database.db
      .selectFrom('merchants')
      .select(['id', 'name'])
      .orderBy('name')
      .execute();
    expect(rows.map((r) => r.name)).toEqual(
      ['unit-0', 'unit-1', 'unit-2', 'unit-3', 'unit-5', 'unit-6', 'unit-8', 'unit-9'].sort(),
    );
    // Unit 7's first insert (its own row) was rolled back with it, and unit 2's row is untouched.
    expect(rows.find((r) => r.id === ids[7])).toBeUndefined();
    expect(rows.find((r) => r.id === duplicate)?.name).toBe('unit-2');

    // The committer keeps working after failures.
    await committer.write(async (trx) => {
      await trx
        .insertInto('merchants')
        .values(merchantRow(newId('mer'), 'after'))
        .execute();
    });
    expect(await countMerchants()).toBe(9);
  });

  it('Database.write on SQLite goes through the committer: failures stay isolated there too', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        handle.database.write(async (trx) => {
          await trx
            .insertInto('merchants')
            .values(merchantRow(newId('mer'), `w-${i}`))
            .execute();
          if (i % 5 === 0) throw new Error(`w-${i}`);
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(4);
    expect(await countMerchants()).toBe(16);
    const names = (await handle.database.db.selectFrom('merchants').select('name').execute()).map(
      (r) => r.name,
    );
    for (const i of [0, 5, 10, 15]) expect(names).not.toContain(`w-${i}`);
  });

  it('resolves a write only after its COMMIT: another connection sees it at once', async () => {
    const committer = new GroupCommitter(handle.database.db);
    const ids = Array.from({ length: 20 }, () => newId('mer'));
    const other = new SQLite(handle.testDb.url, { readonly: true });
    try {
      const lookup = other.prepare('select id from merchants where id = ?');
      await Promise.all(
        ids.map(async (id) => {
          await committer.write(async (trx) => {
            await trx.insertInto('merchants').values(merchantRow(id)).execute();
          });
          // A separate connection only sees committed data.
          expect(lookup.get(id)).toEqual({ id });
        }),
      );
    } finally {
      other.close();
    }
  });
});

describe('SQLite durability under SIGKILL', () => {
  let testDb: TestDatabase;
  beforeEach(async () => {
    testDb = await freshSqlite();
  });
  afterEach(async () => testDb?.drop());

  it('every invoice whose write resolved before kill -9 is on disk, and the file is intact', async () => {
    expect(existsSync(WRITER)).toBe(true);
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, testDb.url], {
      cwd: join(HERE, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const enough = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        // Kill once a good number of writes have resolved, while hundreds more are queued.
        if (stdout.split('\n').filter((l) => l.startsWith('inv_')).length >= 400) resolve();
      });
      void exited.then(({ code, signal }) =>
        reject(new Error(`writer exited early (${code ?? signal}): ${stderr}`)),
      );
    });
    await enough;
    child.kill('SIGKILL');
    const { signal } = await exited;
    expect(signal).toBe('SIGKILL');

    // Only complete lines count: the last one may have been cut by the kill.
    const lines = stdout.split('\n');
    lines.pop();
    expect(lines[0]).toBe('ready');
    const printed = lines.filter((l) => l.startsWith('inv_'));
    expect(printed.length).toBeGreaterThanOrEqual(400);
    expect(new Set(printed).size).toBe(printed.length);

    const raw = new SQLite(testDb.url);
    try {
      expect(raw.pragma('integrity_check')).toEqual([{ integrity_check: 'ok' }]);
      expect(raw.pragma('foreign_key_check')).toEqual([]);
      const stored = new Set(
        (raw.prepare('select id from invoices').all() as Array<{ id: string }>).map((r) => r.id),
      );
      const missing = printed.filter((id) => !stored.has(id));
      expect(missing).toEqual([]);
      expect(stored.size).toBeGreaterThanOrEqual(printed.length);
      // Every stored invoice is whole: its option, transition and event committed with it, and its
      // clock set to expire it.
      const orphans = raw
        .prepare(
          `select count(*) as n from invoices i
           where not exists (select 1 from payment_options o where o.invoice_id = i.id)
              or not exists (select 1 from transitions t where t.invoice_id = i.id)
              or not exists (select 1 from events e where e.invoice_id = i.id)
              or i.clock_fact is not 'expiry_due' or i.clock_at is not i.expires_at`,
        )
        .get() as { n: number };
      expect(orphans.n).toBe(0);
    } finally {
      raw.close();
    }

    // And the gateway can open it again.
    const reopened = openDatabase({ url: testDb.url });
    try {
      expect(await migrate(reopened)).toEqual([]);
      const n = await reopened.db
        .selectFrom('invoices')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(n.n)).toBeGreaterThanOrEqual(printed.length);
      await sql`select 1`.execute(reopened.db);
    } finally {
      await reopened.close();
    }
  });
});
