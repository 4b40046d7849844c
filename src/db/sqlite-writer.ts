import { Worker } from 'node:worker_threads';

export interface WriterResult {
  rows: unknown[];
  changes?: number;
  lastInsertRowid?: bigint;
}

export interface CheckpointOptions {
  /**
   * How often the checkpoint thread copies the WAL into the database file. 50 ms, not 200: the
   * writer's own checkpoint copies what was committed since the last pass (decision 0017).
   */
  intervalMs?: number;
  /** The WAL length, in pages, from which the writer is asked to checkpoint so the WAL starts over. */
  restartFrames?: number;
}

const CHECKPOINTS: Required<CheckpointOptions> = { intervalMs: 50, restartFrames: 4096 };

export interface Statement {
  sql: string;
  parameters: readonly unknown[];
}

/** A statement that must change exactly `expectChanges` rows, when given. */
export interface CheckedStatement extends Statement {
  expectChanges?: number;
}

interface Waiting {
  resolve: (result: WriterResult) => void;
  reject: (error: Error) => void;
}

/** An error from the writer thread, rebuilt with the SQLite code that callers branch on. */
export class SqliteWriterError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    name = 'SqliteError',
  ) {
    super(message);
    this.name = name;
  }
}

/**
 * The main thread's handle on the SQLite writer thread (sqlite-writer-thread.js): each query is a
 * message, answered in order. The thread is referenced only while a query is in flight, so an idle
 * gateway or CLI can exit without closing it, and a pending query never lets the process exit early.
 */
export class SqliteWriter {
  private readonly worker: Worker;
  private readonly checkpointer: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private failure: Error | null = null;
  private closing = false;
  private checkpointerExited = false;

  constructor(path: string, checkpoints: CheckpointOptions = {}) {
    // The checkpoint thread's way to ask the writer for a checkpoint (sqlite-checkpoint-thread.js):
    // a flag the writer reads after every message. A message would wait behind the writer's queue.
    const checkpointAsked = new Int32Array(new SharedArrayBuffer(4));
    this.worker = new Worker(new URL('./sqlite-writer-thread.js', import.meta.url), {
      workerData: { path, checkpointAsked },
    });
    this.worker.unref();
    this.worker.on('message', (message: ReplyMessage) => this.answer(message));
    this.worker.on('error', (error: unknown) => this.fail(threadFailure(error)));
    this.worker.on('exit', (code) => this.fail(new Error(`SQLite writer thread exited (code ${code})`)));
    this.checkpointer = new Worker(new URL('./sqlite-checkpoint-thread.js', import.meta.url), {
      workerData: { path, ...CHECKPOINTS, ...checkpoints, checkpointAsked },
    });
    // Never keeps the process alive; a checkpoint it did not finish is redone by the next opener.
    this.checkpointer.unref();
    // Not fatal (the writer's own checkpoint at 10,000 pages bounds the WAL), but never silent.
    this.checkpointer.on('error', (error) =>
      process.emitWarning(
        `SQLite checkpoint thread failed: ${error.message}; the writer checkpoints from 10,000 pages`,
      ),
    );
    this.checkpointer.on('exit', (code) => {
      this.checkpointerExited = true;
      if (!this.closing)
        process.emitWarning(
          `SQLite checkpoint thread exited (code ${code}); the writer checkpoints from 10,000 pages`,
        );
    });
  }

  /** `prelude`: statements to run first in the same message, their results unused (a BEGIN). */
  execute(
    sql: string,
    parameters: readonly unknown[],
    prelude: readonly Statement[] = [],
  ): Promise<WriterResult> {
    return this.send(prelude.length > 0 ? { sql, parameters, prelude } : { sql, parameters });
  }

  /** Runs the statements in order in one message; rejects with the first failure. */
  executeBatch(batch: readonly Statement[]): Promise<WriterResult> {
    return this.send({ batch: batch.map((q) => ({ sql: q.sql, parameters: q.parameters })) });
  }

  /**
   * Runs the statements as one transaction (BEGIN IMMEDIATE … COMMIT) in one message; resolves once
   * committed, rejects (rolled back) with the first failure. The caller must not hold a transaction
   * open on the writer when sending it (see writerAccess in sqlite-driver.ts).
   */
  executeTransaction(statements: readonly CheckedStatement[]): Promise<WriterResult> {
    return this.send({
      transaction: statements.map((q) =>
        q.expectChanges === undefined
          ? { sql: q.sql, parameters: q.parameters }
          : { sql: q.sql, parameters: q.parameters, expectChanges: q.expectChanges },
      ),
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    // Referenced while closing: an unreferenced thread's exit does not keep the process waiting
    // for it, and a CLI's top-level await would end unsettled (exit code 13).
    if (!this.checkpointerExited) this.checkpointer.ref();
    const checkpointerDone = this.checkpointerExited
      ? Promise.resolve()
      : new Promise<void>((resolve) => this.checkpointer.once('exit', () => resolve()));
    this.checkpointer.postMessage({ close: true });
    if (!this.failure) await this.send({ close: true });
    await checkpointerDone;
  }

  private send(body: Record<string, unknown>): Promise<WriterResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      try {
        // Throws for a parameter that cannot cross threads: nothing is left waiting (or referenced).
        this.worker.postMessage({ id, ...body });
      } catch (error) {
        reject(error);
        return;
      }
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
    });
  }

  private answer(message: ReplyMessage): void {
    const waiting = this.waiting.get(message.id);
    if (!waiting) return;
    this.waiting.delete(message.id);
    if (this.waiting.size === 0) this.worker.unref();
    if (message.error) {
      const { message: text, code, name } = message.error;
      waiting.reject(new SqliteWriterError(text, code, name));
    } else waiting.resolve(message.result ?? { rows: [] });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }
}

interface ReplyMessage {
  id: number;
  result?: WriterResult;
  error?: { message: string; code?: string; name?: string };
}

/**
 * What a thread's uncaught error becomes. Node rebuilds an error thrown in a worker from what it can
 * clone: better-sqlite3's SqliteError arrives as a bare `{ code }`, with no message or stack.
 */
function threadFailure(error: unknown): Error {
  if (error instanceof Error) return error;
  const { message, code } = (error ?? {}) as { message?: unknown; code?: unknown };
  const codeText = typeof code === 'string' ? code : undefined;
  const detail = typeof message === 'string' && message !== '' ? message : (codeText ?? String(error));
  return new SqliteWriterError(`SQLite writer thread failed: ${detail}`, codeText);
}
