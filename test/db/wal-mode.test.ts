/**
 * Entering WAL mode while another connection writes (src/db/wal-mode.js). SQLite refuses the switch
 * with SQLITE_BUSY at once, without its busy handler, when another connection holds the RESERVED
 * lock. A gateway's writer and checkpoint threads both switch a fresh file as they start; the writer
 * thread that lost that race died, and CI saw every write of one test fail with a bare SQLITE_BUSY.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteWriter } from '../../src/db/sqlite-writer.ts';
import { enterWalMode } from '../../src/db/wal-mode.js';

/** Another thread holds the file's RESERVED lock (BEGIN IMMEDIATE) for `holdMs`, then commits. */
async function writerOnAnotherThread(path: string, holdMs: number): Promise<{ released: Promise<void> }> {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const SQLite = require('better-sqlite3');
     const db = new SQLite(workerData.path);
     db.exec('begin immediate');
     db.exec('insert into t values (1)');
     parentPort.postMessage('locked');
     setTimeout(() => { db.exec('commit'); db.close(); parentPort.postMessage('released'); }, workerData.holdMs);`,
    { eval: true, workerData: { path, holdMs } },
  );
  const next = () =>
    new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
  await next();
  return { released: next() };
}

describe('entering WAL mode while another connection writes', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tally-wal-mode-'));
    path = join(dir, 'rollback.db');
    // A file still in rollback-journal mode, as a fresh file is until the first switch.
    const setup = new SQLite(path);
    setup.exec('create table t (x)');
    setup.close();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is refused at once by SQLite, and enterWalMode waits the writer out instead', async () => {
    const { released } = await writerOnAnotherThread(path, 300);
    const sqlite = new SQLite(path);
    try {
      // The case itself: the plain pragma fails at once, although the busy timeout is 5 s.
      const started = Date.now();
      expect(() => sqlite.pragma('journal_mode = WAL')).toThrow(
        expect.objectContaining({ code: 'SQLITE_BUSY' }),
      );
      expect(Date.now() - started).toBeLessThan(250);
      expect(enterWalMode(sqlite)).toBe('wal');
      await released;
      const check = new SQLite(path, { readonly: true });
      expect(check.pragma('journal_mode', { simple: true })).toBe('wal');
      check.close();
    } finally {
      sqlite.close();
    }
  });

  it('gives up with the SQLITE_BUSY once its wait is over', async () => {
    const { released } = await writerOnAnotherThread(path, 1_000);
    const sqlite = new SQLite(path);
    try {
      expect(() => enterWalMode(sqlite, 100)).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
    } finally {
      await released;
      sqlite.close();
    }
  });

  it('lets a writer thread that starts meanwhile open and write, instead of dying', async () => {
    const { released } = await writerOnAnotherThread(path, 300);
    const writer = new SqliteWriter(path, { intervalMs: 10 });
    try {
      await released;
      await writer.execute('insert into t values (2)', []);
      const { rows } = await writer.execute('select count(*) as n from t', []);
      expect(rows).toEqual([{ n: 2 }]);
    } finally {
      await writer.close();
    }
  });
});
