import type { Insertable, Transaction } from 'kysely';
import type { Tally } from '../context.ts';
import type { IdempotencyKeysTable, Schema } from '../db/schema.ts';
import { addressReservationsFor } from '../wallets/address-reservations.ts';
import { allocateAddresses } from '../wallets/allocator.ts';
import {
  addTransitionEffects,
  type EffectRows,
  emptyEffects,
  insertEffects,
  invoiceRow,
  optionRows,
} from './effect-rows.ts';
import { writeInvoicesPipelined } from './pipelined-invoice-write.ts';
import type { InvoiceRecord } from './record.ts';
import type { InvoiceJson } from './serialize.ts';
import { transition } from './transition.ts';
import type { PaymentOption } from './types.ts';

export interface InvoiceWrite {
  /** The invoice in status `created`, its options not yet given addresses. */
  record: InvoiceRecord;
  derivers: ReadonlyMap<string, (index: number) => string>;
  /** The idempotent response, stored in the same transaction as the invoice. */
  storeResponse?: StoredResponseWrite;
}

/** How the idempotent response of a creation is stored with it, on either write path. */
export interface StoredResponseWrite {
  /** Inserts it inside the caller's transaction (writeInvoices). */
  inTransaction: (trx: Transaction<Schema>, invoice: InvoiceJson) => Promise<void>;
  /** The row to insert, for the pipelined path that sends precompiled statements. */
  row: (invoice: InvoiceJson) => Insertable<IdempotencyKeysTable>;
}

interface Pending {
  write: InvoiceWrite;
  resolve: (invoice: InvoiceJson) => void;
  reject: (error: unknown) => void;
}

/**
 * Batches invoice creations: requests that arrive while a batch is being written wait and form
 * the next batch, which claims its addresses and inserts invoices, options, transitions and events
 * with one multi-row INSERT per table, in one durable write: in one go when it can
 * (pipelined-invoice-write.ts), else in a transaction through the allocator (writeInvoices). The
 * per-invoice cost of statements (and, on SQLite, of fsync) is shared; every caller still resolves
 * only after the COMMIT. If a batch fails (say, an idempotency key raced in another process), each
 * of its invoices is retried alone, so one bad request never fails others.
 */
export class InvoiceWriter {
  private queue: Pending[] = [];
  private active = 0;
  private scheduled = false;

  constructor(
    private readonly tally: Tally,
    private readonly maxConcurrent: number,
    private readonly maxBatch = 128,
  ) {}

  submit(write: InvoiceWrite): Promise<InvoiceJson> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // Let the requests parsed in this turn of the event loop join the same batch.
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.active < this.maxConcurrent && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.active += 1;
      void this.run(batch).finally(() => {
        this.active -= 1;
        this.pump();
      });
    }
  }

  private async run(batch: Pending[]): Promise<void> {
    try {
      const writes = batch.map((p) => p.write);
      const invoices =
        (await writeInvoicesPipelined(this.tally, writes)) ??
        (await this.tally.database.write((trx) => writeInvoices(this.tally, trx, writes)));
      for (const [i, p] of batch.entries()) settle(p, invoices[i]);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      // Retry each alone, all at once: on SQLite they still share one group commit, each in its
      // own savepoint, so the bad one fails alone without serialising the rest behind it.
      await Promise.all(
        batch.map(async (p) => {
          try {
            const [invoice] = await this.tally.database.write((trx) =>
              writeInvoices(this.tally, trx, [p.write]),
            );
            settle(p, invoice);
          } catch (single) {
            p.reject(single);
          }
        }),
      );
    }
  }
}

function settle(pending: Pending, invoice: InvoiceJson | undefined): void {
  if (invoice) pending.resolve(invoice);
  else pending.reject(new Error('invoice missing from its batch result'));
}

/** Writes a batch of new invoices in the caller's transaction; returns their wire shapes in order. */
export async function writeInvoices(
  tally: Tally,
  trx: Transaction<Schema>,
  writes: InvoiceWrite[],
): Promise<InvoiceJson[]> {
  const now = tally.clock.now();
  const records = copyRecords(writes);
  const byWallet = optionsByWallet(records);
  const rows = emptyEffects();
  const reservations = addressReservationsFor(tally.database);
  for (const walletId of byWallet.keys()) reservations.forget(walletId);
  // Wallets in id order: concurrent batches touching the same wallets lock them in one order.
  for (const [walletId, options] of byWallet) {
    const derive = writes.find((w) => w.derivers.has(walletId))?.derivers.get(walletId);
    if (!derive) throw new Error(`no deriver for wallet ${walletId}`);
    const allocations = await allocateAddresses(
      trx,
      tally.database.dialect,
      walletId,
      options.map((o) => o.id),
      now,
      derive,
      // The gap check's re-arm goes with the batch's other rows: one statement fewer.
      (job) => rows.rearm.push(job),
    );
    const byOption = new Map(allocations.map((a) => [a.optionId, a]));
    for (const option of options) {
      const allocation = byOption.get(option.id);
      if (!allocation) throw new Error(`no address allocated for option ${option.id}`);
      option.address = allocation.address;
      option.derivationIndex = allocation.index;
    }
  }

  const invoices = addNewInvoiceRows(records, now, rows);
  await insertEffects(trx, rows, tally.database.dialect);
  for (const [i, write] of writes.entries()) {
    const invoice = invoices[i];
    if (write.storeResponse && invoice) await write.storeResponse.inTransaction(trx, invoice);
  }
  return invoices;
}

/** Fresh copies: a batch retried invoice by invoice must not see addresses of the failed attempt. */
export function copyRecords(writes: readonly InvoiceWrite[]): InvoiceRecord[] {
  return writes.map((w) => ({ ...w.record, options: w.record.options.map((o) => ({ ...o })) }));
}

/**
 * Adds the rows of each new invoice, its addresses assigned, to `rows`: the invoice (its clock set
 * to expire it, see invoice-clock.ts), its options, and created → awaiting_payment with its event.
 * Returns the invoices as written, in their wire shape.
 */
export function addNewInvoiceRows(
  records: readonly InvoiceRecord[],
  now: Date,
  rows: EffectRows,
): InvoiceJson[] {
  return records.map((record) => {
    const fact = { kind: 'options_assigned', id: 'options_assigned' } as const;
    const result = transition(record, fact, now);
    const after: InvoiceRecord = {
      ...record,
      ...result.invoice,
      updatedAt: now,
      version: record.version + 1,
    };
    rows.invoices.push(invoiceRow(after));
    rows.options.push(...optionRows(after));
    return addTransitionEffects(rows, after, result, now);
  });
}

/** Each wallet's options across the batch, wallets in id order (see writeInvoices). */
export function optionsByWallet(records: readonly InvoiceRecord[]): Map<string, PaymentOption[]> {
  const byWallet = new Map<string, PaymentOption[]>();
  for (const record of records) {
    for (const option of record.options) {
      const list = byWallet.get(option.walletId);
      if (list) list.push(option);
      else byWallet.set(option.walletId, [option]);
    }
  }
  return new Map([...byWallet].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const writers = new WeakMap<Tally, InvoiceWriter>();

/**
 * One writer per gateway, with batches in flight at once: on SQLite two (one is built, and queued
 * on the writer thread, while the other commits); on PostgreSQL TALLY_INVOICE_WRITE_BATCHES
 * (default 2; decisions 0012 and 0013).
 */
export function invoiceWriterFor(tally: Tally): InvoiceWriter {
  let writer = writers.get(tally);
  if (!writer) {
    // SQLite: two batches, so one is built (and queued on the writer thread) while the other
    // commits (pipelined-invoice-write.ts).
    const parallel = tally.database.dialect === 'postgres' ? tally.config.invoiceWriteBatches : 2;
    writer = new InvoiceWriter(tally, parallel);
    writers.set(tally, writer);
  }
  return writer;
}
