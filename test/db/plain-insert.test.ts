/**
 * plainInsert (src/db/plain-insert.ts) writes SQLite's hot multi-row INSERTs without Kysely's
 * builder. It must insert exactly what Kysely would, and refuse rows it cannot write the same way.
 */
import { describe, expect, it } from 'vitest';
import { plainInsert } from '../../src/db/plain-insert.ts';
import { jobRow } from '../../src/jobs/job-store.ts';
import { freshSqlite, useMigratedDatabase } from '../helpers/databases.ts';

const row = (id: string, name: string) => ({
  id,
  name,
  policy: JSON.stringify({ note: 'quotes \' and " survive' }),
  created_at: '2026-01-01T00:00:00.000Z',
});

describe('plainInsert', () => {
  const handle = useMigratedDatabase(freshSqlite);

  it('inserts the same rows as Kysely does', async () => {
    const rows = [row('mer_p1', 'first'), row('mer_p2', 'ünïcode ✓'), row('mer_p3', '')];
    const query = plainInsert('merchants', rows);
    if (!query) throw new Error('plain rows must be written plainly');
    expect(query.parameters).toHaveLength(12);
    await handle.database.write((trx) => trx.executeQuery(query));
    const kyselyRows = rows.map((r) => ({ ...r, id: r.id.replace('mer_p', 'mer_k') }));
    await handle.database.write((trx) => trx.insertInto('merchants').values(kyselyRows).execute());
    const read = await handle.database.read.selectFrom('merchants').selectAll().orderBy('id').execute();
    const plain = read.filter((r) => r.id.startsWith('mer_p'));
    const built = read.filter((r) => r.id.startsWith('mer_k'));
    expect(plain).toHaveLength(3);
    expect(plain.map((r) => ({ ...r, id: r.id.slice(5) }))).toEqual(
      built.map((r) => ({ ...r, id: r.id.slice(5) })),
    );
  });

  it('writes numbers, nulls and bigints as Kysely does', async () => {
    const jobs = (prefix: string) =>
      [0, 1].map((i) => ({
        ...jobRow({
          kind: 'wallet.gap_check',
          dedupeKey: `${prefix}-${i}`,
          payload: { n: i },
          runAt: new Date('2026-11-21T12:00:00Z'),
          now: new Date('2026-11-21T12:00:00Z'),
        }),
        // A bigint where the schema says number: both writers hand it to SQLite as an integer.
        attempts: (i === 0 ? 7 : 2n ** 40n) as number,
        last_error: i === 0 ? null : 'boom',
      }));
    const query = plainInsert('jobs', jobs('plain'));
    if (!query) throw new Error('plain rows must be written plainly');
    await handle.database.write((trx) => trx.executeQuery(query));
    await handle.database.write((trx) => trx.insertInto('jobs').values(jobs('kysely')).execute());
    const read = await handle.database.read
      .selectFrom('jobs')
      .select(['dedupe_key', 'attempts', 'last_error', 'locked_by', 'payload', 'status'])
      .orderBy('dedupe_key')
      .execute();
    const strip = (prefix: string) =>
      read
        .filter((r) => r.dedupe_key.startsWith(prefix))
        .map((r) => ({ ...r, dedupe_key: r.dedupe_key.slice(-1) }));
    expect(strip('plain')).toHaveLength(2);
    expect(strip('plain')).toEqual(strip('kysely'));
    expect(strip('plain').map((r) => Number(r.attempts))).toEqual([7, 2 ** 40]);
  });

  it('leaves to Kysely rows with differing columns, non-plain values, or odd names', () => {
    expect(plainInsert('merchants', [row('a', 'a'), { id: 'b', name: 'b' }])).toBeNull();
    expect(plainInsert('merchants', [{ ...row('a', 'a'), created_at: new Date() }])).toBeNull();
    expect(plainInsert('merchants', [{ ...row('a', 'a'), policy: { nested: true } }])).toBeNull();
    expect(plainInsert('merchants', [row('a', 'a'), { ...row('b', 'b'), policy: undefined }])).toBeNull();
    expect(plainInsert('merchants"; drop table x; --', [row('a', 'a')])).toBeNull();
    expect(plainInsert('merchants', [{ ...row('a', 'a'), 'bad column': 1 }])).toBeNull();
    expect(plainInsert('merchants', [])).toBeNull();
    // An undefined column left out of every row is simply not written (Kysely does the same).
    const query = plainInsert('merchants', [{ ...row('a', 'a'), extra: undefined }]);
    expect(query?.sql).toBe(
      'insert into "merchants" ("id", "name", "policy", "created_at") values (?, ?, ?, ?)',
    );
  });
});
