// The embedded database's writing connection, on its own thread. better-sqlite3 is synchronous:
// on the main thread every COMMIT (an fsync, synchronous=FULL) and every INSERT stopped all HTTP
// work until it returned — 58% of the main thread's time under invoice-creation load. Here the
// main thread keeps serving requests while this thread writes and waits on the disk.
// Plain JavaScript: worker threads do not inherit the tsx loader that `bin/tally.js` registers.
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { enterWalMode } from './wal-mode.js';

const sqlite = new SQLite(workerData.path);
enterWalMode(sqlite);
// FULL: the WAL is fsynced at every commit, so a committed invoice survives power loss.
sqlite.pragma('synchronous = FULL');
sqlite.pragma('foreign_keys = ON');
sqlite.pragma('busy_timeout = 5000');
// Checkpoints run on their own thread (sqlite-checkpoint-thread.js); this is only the backstop.
sqlite.pragma('wal_autocheckpoint = 10000');

// Kysely prepares every query anew; preparing cost ~40% of query time, so statements are cached.
const statements = new Map();
function prepare(text) {
  let statement = statements.get(text);
  if (!statement) {
    statement = sqlite.prepare(text);
    if (statements.size < 2000) statements.set(text, statement);
  }
  return statement;
}

function execute(text, parameters) {
  const statement = prepare(text);
  if (statement.reader) return { rows: statement.all(...parameters) };
  const { changes, lastInsertRowid } = statement.run(...parameters);
  return { rows: [], changes, lastInsertRowid: BigInt(lastInsertRowid) };
}

// Statements whose results the caller does not need, run in order in one message (one thread hop
// instead of one per statement); the first failure stops the rest and is reported as the result.
function runBatch(message) {
  try {
    for (const query of message.batch) execute(query.sql, query.parameters);
    parentPort.postMessage({ id: message.id, result: { rows: [] } });
  } catch (error) {
    parentPort.postMessage({
      id: message.id,
      error: { name: error?.name, message: String(error?.message ?? error), code: error?.code },
    });
  }
}

// A whole transaction in one message: BEGIN IMMEDIATE, the statements, COMMIT — all or nothing.
// A statement with `expectChanges` must change exactly that many rows (a conditional claim that
// found its row already taken), or the transaction is rolled back with code TALLY_CHANGES_MISMATCH.
//
// Its statement journals stay in memory (temp_store, read by SQLite at BEGIN). A multi-row
// statement inside a transaction keeps one, to undo just that statement; past 64 KiB it spilled to
// a new file in /var/tmp: an open, an unlink and ~170 page writes per invoice batch, a sixth of the
// writer's time. These transactions are bounded (one invoice batch), so their journals are too.
// Everything else on this connection — migrations' CREATE INDEX, large sorts, the group-commit
// units — keeps SQLite's temporary files, whose size no memory limit has to absorb. Durability is
// the same either way: the WAL alone decides what a crash keeps (decision 0014).
function runTransaction(message) {
  try {
    execute('pragma temp_store = memory', []);
    execute('begin immediate', []);
    for (const query of message.transaction) {
      const result = execute(query.sql, query.parameters);
      if (query.expectChanges !== undefined && result.changes !== query.expectChanges) {
        const error = new Error(
          `expected ${query.expectChanges} changed rows, got ${result.changes}: ${query.sql.slice(0, 80)}`,
        );
        error.code = 'TALLY_CHANGES_MISMATCH';
        throw error;
      }
    }
    execute('commit', []);
    parentPort.postMessage({ id: message.id, result: { rows: [] } });
  } catch (error) {
    // A failed ROLLBACK (it should not happen) must not take the thread down: the caller still
    // hears of the original error, and the next BEGIN reports whatever state is left.
    try {
      if (sqlite.inTransaction) sqlite.exec('rollback');
    } catch {}
    parentPort.postMessage({
      id: message.id,
      error: { name: error?.name, message: String(error?.message ?? error), code: error?.code },
    });
  } finally {
    try {
      execute('pragma temp_store = default', []);
    } catch {}
  }
}

// Asked for by the checkpoint thread, through a shared flag, once the WAL is long (see
// sqlite-checkpoint-thread.js). Run between transactions only: inside one (a Kysely transaction
// spans several messages) SQLite refuses it, and the request would be lost.
const checkpointAsked = workerData.checkpointAsked;
function checkpointIfAsked() {
  if (Atomics.load(checkpointAsked, 0) === 0 || !sqlite.open || sqlite.inTransaction) return;
  Atomics.store(checkpointAsked, 0, 0);
  try {
    sqlite.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy: the checkpoint thread asks again; the automatic backstop bounds the WAL meanwhile.
  }
}

parentPort.on('message', (message) => {
  handle(message);
  checkpointIfAsked();
});

function handle(message) {
  if (message.close) {
    sqlite.close();
    parentPort.postMessage({ id: message.id, closed: true });
    parentPort.close();
    return;
  }
  if (message.batch) {
    runBatch(message);
    return;
  }
  if (message.transaction) {
    runTransaction(message);
    return;
  }
  try {
    // A deferred BEGIN travels with the transaction's first statement (see sqlite-driver.ts).
    for (const query of message.prelude ?? []) execute(query.sql, query.parameters);
    parentPort.postMessage({ id: message.id, result: execute(message.sql, message.parameters) });
  } catch (error) {
    // The code (SQLITE_CONSTRAINT_UNIQUE, SQLITE_BUSY, …) is what callers branch on.
    parentPort.postMessage({
      id: message.id,
      error: { name: error?.name, message: String(error?.message ?? error), code: error?.code },
    });
  }
}
