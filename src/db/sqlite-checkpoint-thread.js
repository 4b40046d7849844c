// Checkpoints the embedded database's WAL into the database file, on its own thread. SQLite's
// automatic checkpoint runs inside the COMMIT that crosses the threshold, on the writer thread:
// every ~1,000 pages a commit also copied them into the database file and fsynced it, and invoice
// creation ran 9% faster with it off (docs/decisions/0012). A PASSIVE checkpoint from this separate
// connection blocks neither the writer nor readers; durability is untouched (commits still fsync
// the WAL). The writer keeps a high automatic threshold as a backstop if this thread falls behind.
// Plain JavaScript: worker threads do not inherit the tsx loader that `bin/tally.js` registers.
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';

const sqlite = new SQLite(workerData.path);
sqlite.pragma('busy_timeout = 5000');
const timer = setInterval(() => {
  try {
    sqlite.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or locked: the next tick tries again; the writer's backstop bounds the WAL meanwhile.
  }
}, workerData.intervalMs);

parentPort.on('message', (message) => {
  if (message.close) {
    clearInterval(timer);
    sqlite.close();
    parentPort.close();
  }
});
