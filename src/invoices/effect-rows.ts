import {
  type CompiledQuery,
  type Insertable,
  type Kysely,
  type RawBuilder,
  sql,
  type Transaction,
} from 'kysely';
import { newId } from '../core/ids.ts';
import type { DialectName } from '../db/connect.ts';
import { pgJsonInsert } from '../db/pg-json-insert.ts';
import { plainInsert } from '../db/plain-insert.ts';
import type {
  EventsTable,
  ExceptionsTable,
  InvoicesTable,
  JobsTable,
  PaymentOptionsTable,
  Schema,
  TransitionsTable,
} from '../db/schema.ts';
import { statementBatch } from '../db/sqlite-driver.ts';
import { flag, iso } from '../db/values.ts';
import { serializeException } from '../exceptions/serialize-exception.ts';
import { type NewJob, rearmJobQueries, rearmJobStatements } from '../jobs/job-store.ts';
import type { InvoiceRecord } from './record.ts';
import { type InvoiceJson, serializeInvoice, serializePayment } from './serialize.ts';
import type { TransitionResult } from './transition.ts';

/**
 * Rows a transition writes, built as plain data so one invoice (a fact) or a whole batch of new
 * invoices can be inserted with one multi-row INSERT per table.
 */
export interface EffectRows {
  invoices: Insertable<InvoicesTable>[];
  options: Insertable<PaymentOptionsTable>[];
  transitions: Insertable<TransitionsTable>[];
  exceptions: Insertable<ExceptionsTable>[];
  events: Insertable<EventsTable>[];
  jobs: Insertable<JobsTable>[];
  /** Recurring jobs to re-arm (rearmJob): an upsert, not an insert. */
  rearm: NewJob[];
}

export function emptyEffects(): EffectRows {
  return { invoices: [], options: [], transitions: [], exceptions: [], events: [], jobs: [], rearm: [] };
}

export function invoiceRow(inv: InvoiceRecord): Insertable<InvoicesTable> {
  return {
    id: inv.id,
    merchant_id: inv.merchantId,
    status: inv.status,
    merchant_order_id: inv.merchantOrderId,
    customer_id: inv.customerId,
    description: inv.description,
    price_amount: inv.priceAmount.toString(),
    price_currency: inv.priceCurrency,
    metadata: JSON.stringify(inv.metadata),
    success_url: inv.successUrl,
    cancel_url: inv.cancelUrl,
    expires_at: iso(inv.expiresAt),
    policy: JSON.stringify(inv.policySnapshot),
    selected_option_id: inv.selectedOptionId,
    refunded_amount: inv.refundedAmount.toString(),
    manually_paid: flag(inv.manuallyPaid),
    sequence: inv.sequence,
    version: inv.version,
    fulfilled_at: inv.fulfilledAt ? iso(inv.fulfilledAt) : null,
    fulfilment: inv.fulfilment ? JSON.stringify(inv.fulfilment) : null,
    created_at: iso(inv.createdAt),
    updated_at: iso(inv.updatedAt),
    // A new invoice's clock starts with its expiry (src/invoices/invoice-clock.ts).
    clock_fact: 'expiry_due',
    clock_at: iso(inv.expiresAt),
  };
}

export function optionRows(inv: InvoiceRecord): Insertable<PaymentOptionsTable>[] {
  return inv.options.map((o, position) => ({
    id: o.id,
    invoice_id: inv.id,
    merchant_id: inv.merchantId,
    position,
    asset: o.asset,
    network: o.network,
    address: o.address,
    wallet_id: o.walletId,
    derivation_index: o.derivationIndex,
    amount_due: o.amountDue.toString(),
    decimals: o.decimals,
    required_confirmations: o.requiredConfirmations,
    zero_conf_allowed: flag(o.zeroConfAllowed),
    confirmation_reason: o.confirmationReason,
    rate_value: o.rate?.value ?? null,
    rate_source: o.rate?.source ?? null,
    rate_fetched_at: o.rate ? iso(o.rate.fetchedAt) : null,
  }));
}

/**
 * What a fact's events are about beyond the invoice and its payments, read by the caller in the
 * fact's transaction (the state machine does no I/O): the refund a `refund_completed` or
 * `refund_reverted` moved, as the refunds API shows it after the change.
 */
export interface EventSubjects {
  refund?: Record<string, unknown>;
}

const REFUND_EVENTS = new Set(['refund.completed', 'refund.reverted']);

/**
 * Transitions, exceptions and outbox events of one transition result. Each event carries the
 * invoice as it stands after the fact, stamped with the event's own sequence number, plus the
 * payment, exception, refund or transition it is about. Returns the invoice's wire shape (the
 * events' snapshot), so a caller answering with it need not serialize the invoice again.
 */
export function addTransitionEffects(
  rows: EffectRows,
  after: InvoiceRecord,
  result: TransitionResult,
  now: Date,
  subjects: EventSubjects = {},
): InvoiceJson {
  const at = iso(now);
  for (const t of result.transitions) {
    rows.transitions.push({
      id: newId('trn'),
      invoice_id: after.id,
      merchant_id: after.merchantId,
      from_status: t.from,
      to_status: t.to,
      cause_id: t.causeId,
      cause_kind: t.causeKind,
      actor_kind: t.actor?.kind ?? null,
      actor_id: t.actor?.id ?? null,
      reason: t.reason,
      created_at: at,
    });
  }
  // Each event's exception is the row as the exceptions API shows it (serializeException), so
  // `exception.opened` and `exception.resolved` carry one shape.
  const exceptions = result.exceptions.map((e): ExceptionsTable => {
    const row: ExceptionsTable = {
      id: newId('exc'),
      merchant_id: after.merchantId,
      invoice_id: after.id,
      payment_id: e.paymentId,
      kind: e.kind,
      evidence: JSON.stringify(e.evidence),
      status: 'open',
      resolution: null,
      resolved_by: null,
      resolved_reason: null,
      created_at: at,
      resolved_at: null,
    };
    rows.exceptions.push(row);
    return row;
  });
  const snapshot = serializeInvoice(after);
  let exceptionCursor = 0;
  for (const ev of result.events) {
    const data: Record<string, unknown> = { invoice: { ...snapshot, sequence: ev.sequence } };
    if (ev.paymentId) {
      const payment = after.payments.find((p) => p.id === ev.paymentId);
      if (payment) data.payment = serializePayment(payment, after.options);
    }
    if (ev.type === 'exception.opened') {
      const row = exceptions[exceptionCursor];
      data.exception = row ? serializeException(row) : null;
      exceptionCursor += 1;
    }
    if (REFUND_EVENTS.has(ev.type)) {
      // The caller read the refund the fact moved; an event about a refund must say which one.
      if (!subjects.refund) throw new Error(`${ev.type} on ${after.id} without its refund`);
      data.refund = subjects.refund;
    }
    const transition = result.transitions.find((t) => `invoice.${t.to}` === ev.type);
    if (transition) {
      data.transition = {
        from: transition.from,
        to: transition.to,
        cause: transition.causeKind,
        reason: transition.reason,
      };
    }
    rows.events.push(eventRow(after.merchantId, after.id, ev.type, ev.sequence, data, now));
  }
  return snapshot;
}

export function eventRow(
  merchantId: string,
  invoiceId: string | null,
  type: string,
  sequence: number,
  data: Record<string, unknown>,
  now: Date,
): Insertable<EventsTable> {
  const id = newId('evt');
  const created = iso(now);
  return {
    id,
    merchant_id: merchantId,
    invoice_id: invoiceId,
    type,
    sequence,
    payload: JSON.stringify({ id, type, created, data }),
    created_at: created,
  };
}

/** SQLite allows 32,766 bound parameters per statement; stay well under it. */
const MAX_PARAMS = 30_000;

function insertQueries<T extends keyof Schema>(
  trx: Pick<Kysely<Schema>, 'insertInto'>,
  table: T,
  rows: Insertable<Schema[T]>[],
): CompiledQuery[] {
  if (rows.length === 0) return [];
  const width = Object.keys(rows[0] as object).length;
  const chunk = Math.max(1, Math.floor(MAX_PARAMS / width));
  const queries: CompiledQuery[] = [];
  for (let i = 0; i < rows.length; i += chunk) {
    // `as never`: Kysely cannot narrow the insert shape of a generic table name.
    queries.push(
      trx
        .insertInto(table)
        .values(rows.slice(i, i + chunk) as never)
        .compile(),
    );
  }
  return queries;
}

/**
 * Inserts every collected row, one multi-row INSERT per table, parents before children. On
 * PostgreSQL all of them go in one statement (data-modifying CTEs): each statement was a round trip
 * of about 1 ms under load, the batch writer's main cost (bench profile: the gateway's thread idle
 * 53% of the time, waiting). Foreign keys still hold: PostgreSQL checks them at the end of the
 * statement, when every row is in.
 */
export async function insertEffects(
  trx: Transaction<Schema>,
  rows: EffectRows,
  dialect: DialectName,
): Promise<void> {
  const present = effectTables(rows);
  const parameters = present.reduce(
    (sum, [, list]) => sum + list.length * Object.keys((list[0] ?? {}) as object).length,
    0,
  );
  const rearm = uniqueRearms(rows);
  if (present.length === 0 && rearm.length === 0) return;
  if (dialect === 'postgres') {
    if (parameters > PG_MAX_PARAMS) {
      for (const [table, list] of present) {
        for (const query of insertQueries(trx, table, list as never)) await trx.executeQuery(query);
      }
      for (const job of rearm) for (const query of rearmJobQueries(trx, job)) await query.execute();
      return;
    }
    await sql`with ${sql.join(pgEffectCtes(trx, rows))} select 1 as one`.execute(trx);
    return;
  }
  // On SQLite the statements go to the writer thread in one hop (statementBatch).
  await trx.executeQuery(statementBatch(sqliteEffectQueries(trx, rows)));
}

/** The SQLite statements that insert every collected row, parents before children (see insertEffects). */
export function sqliteEffectQueries(
  db: Pick<Kysely<Schema>, 'insertInto'>,
  rows: EffectRows,
): CompiledQuery[] {
  return [
    ...effectTables(rows).flatMap(([table, list]) => insertRows(db, table, list as never)),
    ...uniqueRearms(rows).flatMap(rearmJobStatements),
  ];
}

/**
 * The PostgreSQL data-modifying CTEs that insert every collected row and re-arm its jobs, for one
 * statement (insertEffects, pg-invoice-statement.ts). Foreign keys are checked at the end of the
 * statement, when every row is in.
 */
export function pgEffectCtes(
  db: Pick<Kysely<Schema>, 'insertInto' | 'updateTable'>,
  rows: EffectRows,
): RawBuilder<unknown>[] {
  // `as never`: Kysely cannot narrow the insert shape of a generic table name.
  const ctes = effectTables(rows).map(([table, list], i) => {
    const insert = pgJsonInsert(table, list) ?? db.insertInto(table).values(list as never);
    return sql`${sql.ref(`effects_${i}`)} as (${insert})`;
  });
  for (const [i, job] of uniqueRearms(rows).entries()) {
    const [insert, finished] = rearmJobQueries(db, job);
    ctes.push(sql`${sql.ref(`rearm_${i}_insert`)} as (${insert})`);
    ctes.push(sql`${sql.ref(`rearm_${i}_finished`)} as (${finished})`);
  }
  return ctes;
}

/** One re-arm per job key: PostgreSQL refuses a statement that changes one row twice. */
function uniqueRearms(rows: EffectRows): NewJob[] {
  return [...new Map(rows.rearm.map((job) => [job.dedupeKey, job])).values()];
}

/** SQLite INSERTs of the rows: written out plainly when they allow it (plain-insert.ts), else by Kysely. */
export function insertRows<T extends keyof Schema>(
  db: Pick<Kysely<Schema>, 'insertInto'>,
  table: T,
  rows: Insertable<Schema[T]>[],
): CompiledQuery[] {
  const plain = rows.length * Object.keys(rows[0] ?? {}).length <= MAX_PARAMS && plainInsert(table, rows);
  return plain ? [plain] : insertQueries(db, table, rows);
}

function effectTables(rows: EffectRows) {
  return (
    [
      ['invoices', rows.invoices],
      ['payment_options', rows.options],
      ['transitions', rows.transitions],
      ['exceptions', rows.exceptions],
      ['events', rows.events],
      ['jobs', rows.jobs],
    ] as const
  ).filter(([, list]) => list.length > 0);
}

/** PostgreSQL's wire protocol carries at most 65,535 parameters per statement. */
const PG_MAX_PARAMS = 60_000;
