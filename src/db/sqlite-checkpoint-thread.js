// Checkpoints the embedded database's WAL into the database file, on its own thread. SQLite's
// automatic checkpoint runs inside the COMMIT that crosses the threshold, on the writer thread:
// every ~1,000 pages a commit also copied them into the database file and fsynced it, and invoice
// creation ran 9% faster with it off (docs/decisions/0012). A PASSIVE checkpoint from this separate
// connection blocks neither the writer nor readers; durability is untouched (commits still fsync
// the WAL).
//
// Under a steady stream of commits, though, this thread alone never lets the WAL start over: a
// pass copies the frames it found, the writer has appended more meanwhile, and the WAL restarts
// only after a checkpoint that reached its end. It grew until the writer's backstop checkpoint
// (10,000 pages) copied ~8,000 pages inside one COMMIT, a 13-20 ms stall four times a second, and
// the benchmark's p99 was that stall. So once the WAL is long, this thread asks the writer to
// checkpoint between two transactions: only the frames since this pass are left to copy, and the
// writer's next transaction starts the WAL over (decision 0017).
// Plain JavaScript: worker threads do not inherit the tsx loader that `bin/tally.js` registers.
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { enterWalMode } from './wal-mode.js';

const sqlite = new SQLite(workerData.path);
sqlite.pragma('busy_timeout = 5000');
// The file is in WAL mode already when the gateway opens it (connect.ts), but a connection that
// opened it before the switch and has read nothing since takes it for a rollback journal, and its
// checkpoints do nothing. Asking for WAL here settles it either way.
enterWalMode(sqlite);
const timer = setInterval(() => {
  try {
    const [{ log }] = sqlite.pragma('wal_checkpoint(PASSIVE)');
    if (log >= workerData.restartFrames) Atomics.store(workerData.checkpointAsked, 0, 1);
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
