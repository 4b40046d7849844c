import type { Insertable } from 'kysely';
import type { Tally } from '../context.ts';
import type { IdempotencyKeysTable } from '../db/schema.ts';
import { addressReservationsFor, claimReservedStatement } from '../wallets/address-reservations.ts';
import { gapCheckJob } from '../wallets/allocator.ts';
import { type EffectRows, emptyEffects, insertRows, sqliteEffectQueries } from './effect-rows.ts';
import { addNewInvoiceRows, copyRecords, type InvoiceWrite, optionsByWallet } from './invoice-writer.ts';
import { type WalletClaims, writeInvoiceStatement } from './pg-invoice-statement.ts';
import type { InvoiceJson } from './serialize.ts';

/**
 * The fast path for a batch of new invoices: the whole batch — address claims, rows, idempotent
 * responses — is built before anything is sent, then written in one go.
 * - SQLite: one message to the writer thread, run as one transaction. Through Kysely a batch was
 *   four hops, each waiting for the main thread, and no next batch could start until the COMMIT
 *   returned; now the writer runs one batch while the main thread builds the next.
 * - PostgreSQL: one statement in autocommit (pg-invoice-statement.ts): one round trip, not four.
 * (Decision 0013.)
 *
 * Addresses are chosen beforehand from a view of the free pool (address-reservations.ts) and
 * claimed inside the write by statements that must each find their address still free, so an
 * address taken elsewhere meanwhile aborts the write instead of being handed out twice.
 *
 * Returns null, having written nothing, when this path cannot take the batch: a pool with too few
 * free addresses (the allocator derives more inline), or a chosen address that turned out to be
 * taken. The caller then writes the batch the ordinary way (invoice-writer.ts).
 */
export async function writeInvoicesPipelined(
  tally: Tally,
  writes: readonly InvoiceWrite[],
): Promise<InvoiceJson[] | null> {
  const now = tally.clock.now();
  const records = copyRecords(writes);
  const reservations = addressReservationsFor(tally.database);
  const held: Array<{ walletId: string; addresses: Array<{ index: number; address: string }> }> = [];
  const releaseAll = (committed: boolean) => {
    for (const h of held) reservations.release(h.walletId, h.addresses, committed);
  };
  const wallets: WalletClaims[] = [];
  const rows = emptyEffects();
  try {
    for (const [walletId, options] of optionsByWallet(records)) {
      const addresses = await reservations.take(walletId, options.length);
      if (!addresses) {
        releaseAll(false);
        return null;
      }
      held.push({ walletId, addresses });
      const claims = options.map((option, i) => {
        const free = addresses[i];
        if (!free) throw new Error(`no reserved address for option ${option.id}`);
        option.address = free.address;
        option.derivationIndex = free.index;
        return { index: free.index, optionId: option.id };
      });
      wallets.push({ walletId, claims });
      const gapCheck = await gapCheckJob(tally.database.read, walletId, addresses, now);
      if (gapCheck) rows.rearm.push(gapCheck);
    }
    const invoices = addNewInvoiceRows(records, now, rows);
    const responses = writes.flatMap((w, i) => {
      const invoice = invoices[i];
      return w.storeResponse && invoice ? [w.storeResponse.row(invoice)] : [];
    });
    const committed = await send(tally, wallets, rows, responses, now);
    releaseAll(committed);
    if (committed) return invoices;
    for (const w of wallets) reservations.conflicted(w.walletId);
    return null;
  } catch (error) {
    releaseAll(false);
    throw error;
  }
}

/** Writes the batch in one go; false when nothing was written (a claim found its address taken). */
async function send(
  tally: Tally,
  wallets: readonly WalletClaims[],
  rows: EffectRows,
  responses: readonly Insertable<IdempotencyKeysTable>[],
  now: Date,
): Promise<boolean> {
  const database = tally.database;
  if (database.dialect === 'postgres') return writeInvoiceStatement(database, wallets, rows, responses, now);
  const writeStatements = database.writeStatements;
  if (!writeStatements) throw new Error('a SQLite database must offer writeStatements');
  const statements = [
    ...wallets.flatMap((w) => w.claims.map((c) => claimReservedStatement(w.walletId, c, now))),
    ...sqliteEffectQueries(database.db, rows),
    ...(responses.length > 0 ? insertRows(database.db, 'idempotency_keys', [...responses]) : []),
  ];
  try {
    await writeStatements(statements);
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === CLAIM_TAKEN) return false;
    throw error;
  }
}

/** The writer thread's code for a statement that changed another number of rows than it must. */
const CLAIM_TAKEN = 'TALLY_CHANGES_MISMATCH';
