// Puts a SQLite database in WAL mode, waiting out a connection that holds a lock on it.
//
// Switching a file to WAL needs it exclusively. When another connection holds the RESERVED lock
// (it is writing) or is switching the same file at the same moment, SQLite answers SQLITE_BUSY at
// once instead of calling the busy handler, since waiting could deadlock. The writer and checkpoint
// threads of one gateway both switch a fresh file as they start, and 5 starts in 600 lost that race
// (measured with two threads switching one new file); the losing writer thread died, and with it
// every write. Here the switch is simply tried again until the other connection is done.
// Plain JavaScript: the worker threads that use it do not inherit the tsx loader.

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * @param {import('better-sqlite3').Database} sqlite
 * @param {number} [waitMs] how long to keep trying before the SQLITE_BUSY is thrown
 * @returns {string} the journal mode SQLite reports afterwards ('wal', or 'memory' for ':memory:')
 */
export function enterWalMode(sqlite, waitMs = 5000) {
  const started = Date.now();
  for (;;) {
    try {
      return sqlite.pragma('journal_mode = WAL', { simple: true });
    } catch (error) {
      if (error?.code !== 'SQLITE_BUSY' || Date.now() - started >= waitMs) throw error;
      // A blocking sleep is fine: this runs once, as a connection opens.
      Atomics.wait(pause, 0, 0, 5 + Math.floor(Math.random() * 10));
    }
  }
}
