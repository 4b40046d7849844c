import type { Tally } from '../context.ts';
import type { CheckedStatement } from '../db/sqlite-writer.ts';
import { addressReservationsFor, claimReservedStatement } from '../wallets/address-reservations.ts';
import { gapCheckJob } from '../wallets/allocator.ts';
import { emptyEffects, insertRows, sqliteEffectQueries } from './effect-rows.ts';
import { addNewInvoiceRows, copyRecords, type InvoiceWrite, optionsByWallet } from './invoice-writer.ts';
import type { InvoiceJson } from './serialize.ts';

/**
 * SQLite's fast path for a batch of new invoices: the whole batch — address claims, rows, COMMIT —
 * is built on the main thread and sent to the writer thread as one message. Through Kysely a batch
 * was four hops (BEGIN with the claim, the rows, COMMIT), each waiting for the main thread to get
 * back to it, and no next batch could start until the COMMIT returned: both threads sat about half
 * idle (decision 0013). Here the writer runs one batch while the main thread builds the next.
 *
 * Addresses are chosen before the transaction from the reader's view of the pool
 * (address-reservations.ts) and claimed inside it by statements that must each change one row, so
 * an address taken elsewhere meanwhile fails the batch instead of being handed out twice; the
 * caller then writes those invoices one by one through the ordinary allocator.
 *
 * Returns null, having written nothing, when this path cannot take the batch: not SQLite, a pool
 * with too few free addresses (the allocator derives more inline), or a chosen address that turned
 * out to be taken (the transaction rolled back). An idempotent response
 * goes in as a row of the same transaction, so it exists exactly when the invoice does.
 */
export async function writeInvoicesPipelined(
  tally: Tally,
  writes: readonly InvoiceWrite[],
): Promise<InvoiceJson[] | null> {
  const send = tally.database.writeStatements;
  if (!send) return null;
  const now = tally.clock.now();
  const records = copyRecords(writes);
  const reservations = addressReservationsFor(tally.database);
  const held: Array<{ walletId: string; addresses: Array<{ index: number; address: string }> }> = [];
  const releaseAll = (committed: boolean) => {
    for (const h of held) reservations.release(h.walletId, h.addresses, committed);
  };
  const claims: CheckedStatement[] = [];
  const rows = emptyEffects();
  try {
    for (const [walletId, options] of optionsByWallet(records)) {
      const addresses = await reservations.take(walletId, options.length);
      if (!addresses) {
        releaseAll(false);
        return null;
      }
      held.push({ walletId, addresses });
      for (const [i, option] of options.entries()) {
        const free = addresses[i];
        if (!free) throw new Error(`no reserved address for option ${option.id}`);
        option.address = free.address;
        option.derivationIndex = free.index;
        claims.push(claimReservedStatement(walletId, { ...free, optionId: option.id }, now));
      }
      const gapCheck = await gapCheckJob(tally.database.read, walletId, addresses, now);
      if (gapCheck) rows.rearm.push(gapCheck);
    }
    const invoices = addNewInvoiceRows(records, now, rows);
    const responses = writes.flatMap((w, i) => {
      const invoice = invoices[i];
      return w.storeResponse && invoice ? [w.storeResponse.row(invoice)] : [];
    });
    const statements = [
      ...claims,
      ...sqliteEffectQueries(tally.database.db, rows),
      ...(responses.length > 0 ? insertRows(tally.database.db, 'idempotency_keys', responses) : []),
    ];
    try {
      await send(statements);
    } catch (error) {
      // A cached address was claimed elsewhere (the allocator path, another process): nothing was
      // written, so the batch goes the ordinary way. Anything else fails the batch as before.
      if ((error as { code?: unknown }).code === CLAIM_TAKEN) {
        releaseAll(false);
        return null;
      }
      throw error;
    }
    releaseAll(true);
    return invoices;
  } catch (error) {
    releaseAll(false);
    throw error;
  }
}

/** The writer thread's code for a statement that changed another number of rows than it must. */
const CLAIM_TAKEN = 'TALLY_CHANGES_MISMATCH';
