import { createHash, randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Tally } from '../context.ts';
import { TallyError, validationError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import { toPage } from '../core/pagination.ts';
import { findAsset, getNetwork } from '../core/registry.ts';
import type { Schema } from '../db/schema.ts';
import '../db/schema-money.ts';
import type { RefundsTable } from '../db/schema-money.ts';
import { iso } from '../db/values.ts';
import type { InvoiceRecord } from '../invoices/record.ts';
import { refuseOwnAddress, validateDestination } from './destination.ts';
import { refuseDustRefund } from './refund-dust.ts';
import { refuseCancelInFlight } from './refund-in-flight.ts';
import { loadRefund, OPEN_REFUND_STATUSES, serializeRefund } from './refund-rows.ts';
import { lockInvoiceForRefund, refundable, refuseOverApproval } from './refundable.ts';

/**
 * Statuses a refund may be requested from: those the transition table lets a refund leave from
 * (docs/transition-table.md, REFUND), except `detected` and `confirming`, which the table accepts
 * only so that an orphaned refund mined again before its invoice's payment settles is recorded.
 */
const REFUNDABLE = new Set([
  'underpaid',
  'paid',
  'overpaid',
  'late_paid',
  'expired',
  'cancelled',
  'failed',
  'partially_refunded',
]);

export interface RefundRequest {
  kind: 'full' | 'partial' | 'excess';
  /** Required for partial: a decimal string in the asset. */
  amount?: string | undefined;
  destination?: string | undefined;
  reason: string;
  /** Ask the customer for the address through a link instead of giving one. */
  customer_link?: boolean | undefined;
}

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** `rfl_` + 26 random base32 characters (130 bits): shaped like an id, but all of it secret. */
function newLinkToken(): string {
  let out = 'rfl_';
  for (const byte of randomBytes(26)) out += ALPHABET[byte & 31];
  return out;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Records a refund request: full (everything still refundable), partial (an amount), or the
 * excess of an overpayment. Nothing moves yet: an approver with the admin role must approve it
 * with a reason, and only then is an unsigned transaction built for the merchant's signer.
 *
 * Everything from loading the invoice to the insert runs in one write transaction with the
 * invoice locked (refundable.ts), so parallel requests cannot each promise the same money.
 */
export async function requestRefund(
  tally: Tally,
  merchantId: string,
  requestedBy: string,
  invoiceId: string,
  input: RefundRequest,
  /** Stores the Idempotency-Key's response in the refund's own transaction (src/api/app.ts). */
  storeIdempotentResponse?: ((trx: Transaction<Schema>, body: unknown) => Promise<void>) | null,
) {
  return tally.database.write(async (trx) => {
    // Only `trx` inside: on PostgreSQL another pool connection could wait behind this lock.
    const invoice = await lockInvoiceForRefund(trx, tally.database.dialect, merchantId, invoiceId);
    const token = input.customer_link ? newLinkToken() : null;
    const row = await refundRow(tally, trx, invoice, requestedBy, input, token ? hashToken(token) : null);
    await trx.insertInto('refunds').values(row).execute();
    const created = { ...serializeRefund(row), customer_link_token: token };
    // The token is shown once; only its hash is stored, like an API key's secret. A replay of the
    // same Idempotency-Key answers the refund with the token null, never a stored plaintext copy.
    await storeIdempotentResponse?.(trx, { ...created, customer_link_token: null });
    return created;
  });
}

/** The checked refund row for a request, from the invoice as locked in `trx`. */
async function refundRow(
  tally: Tally,
  trx: Transaction<Schema>,
  invoice: InvoiceRecord,
  requestedBy: string,
  input: RefundRequest,
  linkTokenHash: string | null,
): Promise<RefundsTable> {
  // Order of checks: every field's format first (422 naming it), then what the amount may be
  // (422 amount), then the invoice's state (409), so an error always names the input at fault.
  const option = invoice.options.find((o) => o.id === invoice.selectedOptionId) ?? invoice.options[0];
  if (!option) throw new TallyError('invalid_state', 'The invoice has no payment option.');
  let asked: bigint | null = null;
  if (input.kind === 'partial') {
    if (input.amount === undefined)
      throw validationError([{ path: 'amount', message: 'is required for a partial refund' }]);
    asked = parseAmount(input.amount, option.decimals, 'amount');
    if (asked === 0n) throw validationError([{ path: 'amount', message: 'must be greater than zero' }]);
  } else if (input.amount !== undefined) {
    throw validationError([
      { path: 'amount', message: `is only given for a partial refund, not ${input.kind}` },
    ]);
  }
  if (input.destination !== undefined && input.customer_link)
    throw validationError([
      { path: 'customer_link', message: 'give a destination or ask for a link, not both' },
    ]);
  if (input.destination === undefined && !input.customer_link)
    throw validationError([{ path: 'destination', message: 'is required unless customer_link is true' }]);
  const destination =
    input.destination === undefined ? null : validateDestination(input.destination, option.network);
  if (destination !== null) await refuseOwnAddress(trx, invoice.merchantId, destination, option.network);
  if (asked !== null) refuseDustRefund(input.kind, asked, option);
  const { available, excess } = await refundable(trx, invoice);
  if (asked !== null && asked > available) {
    // Stated like the request's own amount: a decimal in the asset, not base units.
    const most = formatAmount(available > 0n ? available : 0n, option.decimals);
    throw validationError([{ path: 'amount', message: `exceeds the refundable ${most} ${option.asset}` }]);
  }
  if (!REFUNDABLE.has(invoice.status))
    throw new TallyError('invalid_state', `An invoice that is ${invoice.status} cannot be refunded.`);
  let amount: bigint;
  if (asked !== null) amount = asked;
  else if (input.kind === 'full') amount = available;
  else {
    if (excess <= 0n)
      throw new TallyError('invalid_state', 'The invoice has no unrefunded excess over its amount due.');
    amount = excess;
  }
  if (amount <= 0n)
    throw new TallyError(
      'invalid_state',
      'Everything received is already refunded or promised to open refunds.',
    );
  refuseDustRefund(input.kind, amount, option);
  const now = iso(tally.clock.now());
  return {
    id: newId('ref'),
    merchant_id: invoice.merchantId,
    invoice_id: invoice.id,
    option_id: option.id,
    kind: input.kind,
    amount: amount.toString(),
    asset: option.asset,
    network: option.network,
    destination,
    status: destination === null ? 'awaiting_destination' : 'pending_approval',
    reason: input.reason,
    requested_by: requestedBy,
    approved_by: null,
    approval_reason: null,
    link_token_hash: linkTokenHash,
    unsigned_tx: null,
    fee_estimate: null,
    send_amount: null,
    txid: null,
    fee: null,
    created_at: now,
    approved_at: null,
    completed_at: null,
    updated_at: now,
  };
}

/** What the customer's refund page shows for a link token; not_found for an unknown one. */
export async function findRefundByLink(tally: Tally, token: string) {
  const row = await tally.database.db
    .selectFrom('refunds')
    .select(['id', 'status', 'amount', 'asset', 'network', 'destination'])
    .where('link_token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row) throw new TallyError('not_found', 'No such refund link.');
  return { ...row, amount: BigInt(row.amount) };
}

/** The customer, holding the link's token, gives the address to refund to (validated for the network). */
export async function setRefundDestination(tally: Tally, token: string, destination: string) {
  const row = await tally.database.db
    .selectFrom('refunds')
    .selectAll()
    .where('link_token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row) throw new TallyError('not_found', 'No such refund link.');
  if (row.status !== 'awaiting_destination')
    throw new TallyError('invalid_state', 'This refund already has its destination.');
  const address = validateDestination(destination, row.network);
  await refuseOwnAddress(tally.database.db, row.merchant_id, address, row.network);
  const now = iso(tally.clock.now());
  const changed = await tally.database.write((trx) =>
    trx
      .updateTable('refunds')
      .set({ destination: address, status: 'pending_approval', updated_at: now })
      .where('id', '=', row.id)
      .where('status', '=', 'awaiting_destination')
      .executeTakeFirst(),
  );
  if (Number(changed.numUpdatedRows) !== 1)
    throw new TallyError('invalid_state', 'The refund changed meanwhile.');
  return {
    id: row.id,
    status: 'pending_approval',
    destination: address,
    asset: row.asset,
    network: row.network,
  };
}

/**
 * Approval by role: the route requires the admin scope, the approver must not be the key that
 * asked (four eyes), and the reason is stored with who approved.
 */
export async function approveRefund(
  tally: Tally,
  merchantId: string,
  approver: string,
  refundId: string,
  reason: string,
) {
  const row = await loadRefund(tally.database.db, merchantId, refundId);
  if (row.status !== 'pending_approval')
    throw new TallyError('invalid_state', `The refund is ${row.status}; only a pending one can be approved.`);
  if (row.requested_by === approver)
    throw new TallyError(
      'forbidden',
      'The key that requested a refund cannot approve it; ask another admin.',
    );
  const now = iso(tally.clock.now());
  await tally.database.write(async (trx) => {
    // The refund row first, then the invoice's lock (in refuseOverApproval): the order
    // bookMovement and revert-refund.ts take the two rows in, so they cannot deadlock.
    const changed = await trx
      .updateTable('refunds')
      .set({
        status: 'approved',
        approved_by: approver,
        approval_reason: reason,
        approved_at: now,
        updated_at: now,
      })
      .where('id', '=', refundId)
      .where('status', '=', 'pending_approval')
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) !== 1)
      throw new TallyError('invalid_state', 'The refund changed meanwhile.');
    // Refused, the whole write rolls back: the refund stays pending_approval, never half-approved.
    await refuseOverApproval(trx, tally.database.dialect, row);
  });
  return serializeRefund(await loadRefund(tally.database.db, merchantId, refundId));
}

export async function cancelRefund(tally: Tally, merchantId: string, refundId: string) {
  const row = await loadRefund(tally.database.db, merchantId, refundId);
  if (!(OPEN_REFUND_STATUSES as readonly string[]).includes(row.status))
    throw new TallyError('invalid_state', `The refund is ${row.status}.`);
  await tally.database.write(async (trx) => {
    // In the write, so the watcher cannot record the transfer between the check and the cancel.
    await refuseCancelInFlight(trx, row);
    await trx
      .updateTable('refunds')
      .set({ status: 'cancelled', updated_at: iso(tally.clock.now()) })
      .where('id', '=', refundId)
      .where('status', '=', row.status)
      .execute();
  });
  return serializeRefund(await loadRefund(tally.database.db, merchantId, refundId));
}

export async function listRefunds(
  tally: Tally,
  merchantId: string,
  params: { limit: number; startingAfter?: string | undefined; invoiceId?: string | undefined },
) {
  let q = tally.database.read
    .selectFrom('refunds')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('id', 'desc')
    .limit(params.limit + 1);
  if (params.startingAfter) q = q.where('id', '<', params.startingAfter);
  if (params.invoiceId) q = q.where('invoice_id', '=', params.invoiceId);
  return toPage(await q.execute(), params.limit, serializeRefund);
}

/**
 * A native-coin EVM refund has no log to find: the merchant gives the hash of the transaction they
 * signed and broadcast. It is only a pointer — the refund completes when the chain confirms that
 * transaction as this refund (src/refunds/evm-refund-watch.ts); a wrong hash never completes it.
 */
export async function reportRefundTransaction(
  tally: Tally,
  merchantId: string,
  refundId: string,
  txHash: string,
) {
  const row = await loadRefund(tally.database.db, merchantId, refundId);
  if (row.status !== 'approved')
    throw new TallyError(
      'invalid_state',
      `The refund is ${row.status}; only an approved refund awaits its transaction.`,
    );
  if (getNetwork(row.network).family !== 'evm')
    throw new TallyError(
      'invalid_state',
      'Bitcoin refunds are found on chain by the watcher; no hash is needed.',
    );
  if (findAsset(row.asset, row.network)?.contract)
    throw new TallyError(
      'invalid_state',
      'Token refunds are found on chain by their Transfer log; only native-coin refunds need the hash.',
    );
  const hash = txHash.toLowerCase();
  const taken = await tally.database.db
    .selectFrom('refunds')
    .select('id')
    .where('network', '=', row.network)
    .where('txid', '=', hash)
    .where('id', '!=', refundId)
    .executeTakeFirst();
  if (taken)
    throw new TallyError('duplicate', `Transaction ${hash} is already reported for refund ${taken.id}.`, {
      issues: [{ path: 'txid', message: 'is already reported for another refund' }],
    });
  await tally.database.write((trx) =>
    trx
      .updateTable('refunds')
      .set({ txid: hash, updated_at: iso(tally.clock.now()) })
      .where('id', '=', refundId)
      .where('status', '=', 'approved')
      .execute(),
  );
  return serializeRefund(await loadRefund(tally.database.db, merchantId, refundId));
}
