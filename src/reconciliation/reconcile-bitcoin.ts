import { scriptForAddress } from '../chains/bitcoin/address-script.ts';
import type { BitcoinNode } from '../chains/bitcoin/bitcoin-node.ts';
import { REORG_WINDOW } from '../chains/bitcoin/chain-store.ts';
import type { Tally } from '../context.ts';
import { newId } from '../core/ids.ts';
import { unitsFromDb } from '../core/money.ts';
import '../db/schema-money.ts';
import { iso } from '../db/values.ts';
import { verifyLedger } from '../ledger/verify.ts';
import { checkEventDelivery } from './event-delivery.ts';
import { openReconciliationException } from './open-exception.ts';

export interface Mismatch {
  kind:
    | 'reconciliation_payment_not_in_chain'
    | 'reconciliation_payment_differs'
    | 'reconciliation_unrecorded_deposit'
    | 'reconciliation_movement_not_in_chain'
    | 'reconciliation_ledger_mismatch';
  invoice_id: string;
  payment_id: string | null;
  detail: Record<string, unknown>;
}

export interface ReconciliationReport {
  id: string;
  network: string;
  from_height: number;
  to_height: number;
  checked: {
    payments: number;
    blocks: number;
    outputs_to_invoice_addresses: number;
    invoices_in_ledger: number;
  };
  mismatches: Mismatch[];
  ledger_ok: boolean;
  events: Awaited<ReturnType<typeof checkEventDelivery>>;
  exceptions_opened: number;
  started_at: string;
  finished_at: string;
}

/** Settled-money statuses whose payments must still be on chain as recorded. */
const COUNTING = [
  'detected',
  'confirming',
  'paid',
  'overpaid',
  'late_paid',
  'underpaid',
  'partially_refunded',
  'refunded',
];

/**
 * Re-verifies the gateway's records against the node, independently of the watcher
 * (docs/decisions/0011). Over a block range (default: from the last run's end, or the watcher's
 * reorg window on the first run, to the watcher's cursor — never past what the watcher read, so a
 * lagging watcher is not mistaken for a missed deposit):
 *  1. every payment counted toward an invoice, mined in the range, is in the best chain with the
 *     recorded amount and recipient;
 *     and every recorded movement out of invoice addresses (refund, sweep) is still there;
 *  2. every output in the range paying an invoice address has a payment record;
 *  3. the ledger verifies; 4. every event was delivered or is visibly failing.
 * Mismatches open exceptions; the run's report is stored.
 */
export async function reconcileBitcoin(
  tally: Tally,
  node: BitcoinNode | null,
  network: string,
  options: { fromHeight?: number } = {},
): Promise<ReconciliationReport> {
  const started = tally.clock.now();
  const db = tally.database.db;
  const cursor = await db
    .selectFrom('chain_blocks')
    .select('height')
    .where('network', '=', network)
    .orderBy('height', 'desc')
    .limit(1)
    .executeTakeFirst();
  // Without a node only the books and the events are checked (the chain ranges are empty).
  const tip = node ? (await node.status()).height : -1;
  const to = node ? Math.min(tip, cursor?.height ?? tip) : -1;
  const last = await db
    .selectFrom('reconciliation_runs')
    .select(['to_height', 'started_at'])
    .where('network', '=', network)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  // A small overlap with the previous run: a reorg may have rewritten its last blocks.
  const from = Math.max(
    0,
    options.fromHeight ?? (last?.to_height != null ? last.to_height - 5 : to - REORG_WINDOW),
  );
  const mismatches: Mismatch[] = [];

  const options_ = await db
    .selectFrom('payment_options')
    .select(['id', 'invoice_id', 'merchant_id', 'address'])
    .where('network', '=', network)
    .execute();
  const byScript = new Map(options_.map((o) => [scriptForAddress(o.address, network), o]));
  const byOption = new Map(options_.map((o) => [o.id, o]));

  // 1. Recorded payments in the range, by block.
  const payments = !node
    ? []
    : await db
        .selectFrom('payments')
        .innerJoin('invoices', 'invoices.id', 'payments.invoice_id')
        .select([
          'payments.id',
          'payments.invoice_id',
          'payments.option_id',
          'payments.txid',
          'payments.output_index',
          'payments.amount',
          'payments.block_hash',
          'payments.block_height',
        ])
        .where('payments.network', '=', network)
        .where('payments.removed', '=', 0)
        .where('payments.credited', '=', 1)
        // No upper bound at the node's tip: a payment recorded above it is exactly what a reorg leaves.
        .where('payments.block_height', '>=', from)
        .where('invoices.status', 'in', COUNTING)
        .execute();
  const byBlock = new Map<string, typeof payments>();
  for (const p of payments) byBlock.set(p.block_hash ?? '', [...(byBlock.get(p.block_hash ?? '') ?? []), p]);
  for (const [hash, list] of byBlock) {
    if (!node) break;
    const height = list[0]?.block_height ?? -1;
    const onChain = (await node.blockHashAt(height)) === hash;
    const block = onChain ? await node.block(hash) : null;
    for (const p of list) {
      const option = byOption.get(p.option_id);
      if (!block || !option) {
        mismatches.push({
          kind: 'reconciliation_payment_not_in_chain',
          invoice_id: p.invoice_id,
          payment_id: p.id,
          detail: { txid: p.txid, vout: p.output_index, block_hash: hash, block_height: height },
        });
        continue;
      }
      const output = block.transactions.find((t) => t.txid === p.txid)?.outputs[p.output_index];
      const expected = scriptForAddress(option.address, network);
      if (!output || output.value !== unitsFromDb(p.amount) || output.script !== expected) {
        mismatches.push({
          kind: output ? 'reconciliation_payment_differs' : 'reconciliation_payment_not_in_chain',
          invoice_id: p.invoice_id,
          payment_id: p.id,
          detail: {
            txid: p.txid,
            vout: p.output_index,
            recorded_amount: p.amount,
            chain_amount: output?.value.toString() ?? null,
            recipient_matches: output?.script === expected,
          },
        });
      }
    }
  }

  // 1b. Money that left invoice addresses (refunds, sweeps) is still in the best chain: a reorg
  // that drops one leaves a booking (and maybe a completed refund) that the chain no longer shows.
  const movements = !node
    ? []
    : await db
        .selectFrom('settlement_movements')
        .select(['id', 'txid', 'block_hash', 'block_height', 'refund_id'])
        .where('network', '=', network)
        .where('block_height', '>=', from)
        // A movement the watcher reversed is settled in the books, unless it paid a refund that no
        // live movement pays any more: the refund is approved again, waiting for that transaction,
        // so a person looks at whether it will be mined again.
        .where((eb) =>
          eb.or([
            eb('removed', '=', 0),
            eb.and([
              eb('refund_id', 'is not', null),
              eb.not(
                eb.exists(
                  eb
                    .selectFrom('settlement_movements as live')
                    .select('live.id')
                    .whereRef('live.refund_id', '=', 'settlement_movements.refund_id')
                    .where('live.removed', '=', 0),
                ),
              ),
            ]),
          ]),
        )
        .execute();
  for (const m of movements) {
    if (!node || m.block_height === null) continue;
    if ((await node.blockHashAt(m.block_height)) === m.block_hash) continue;
    const input = await db
      .selectFrom('settlement_movement_inputs')
      .select(['invoice_id', 'payment_id'])
      .where('movement_id', '=', m.id)
      .orderBy('outpoint')
      .executeTakeFirst();
    if (!input) continue;
    mismatches.push({
      kind: 'reconciliation_movement_not_in_chain',
      invoice_id: input.invoice_id,
      payment_id: input.payment_id,
      detail: {
        txid: m.txid,
        movement_id: m.id,
        refund_id: m.refund_id,
        block_hash: m.block_hash,
        block_height: m.block_height,
      },
    });
  }

  // 2. Every output to an invoice address in the range is recorded.
  let outputs = 0;
  for (let height = from; node && height <= to; height++) {
    const hash = await node.blockHashAt(height);
    if (!hash) break;
    const block = await node.block(hash);
    for (const tx of block.transactions) {
      for (const [vout, out] of tx.outputs.entries()) {
        const option = byScript.get(out.script);
        if (!option) continue;
        outputs += 1;
        const recorded = await db
          .selectFrom('payments')
          .select('id')
          .where('network', '=', network)
          .where('txid', '=', tx.txid)
          .where('output_index', '=', vout)
          .executeTakeFirst();
        if (!recorded)
          mismatches.push({
            kind: 'reconciliation_unrecorded_deposit',
            invoice_id: option.invoice_id,
            payment_id: null,
            detail: {
              txid: tx.txid,
              vout,
              amount: out.value.toString(),
              address: option.address,
              block_height: height,
            },
          });
      }
    }
  }

  // 3. The books.
  // Incremental after the first run: what was written since the previous run started (a full proof
  // over every invoice is `tally ledger verify`, which reads the whole history).
  const ledger = await verifyLedger(
    db,
    tally.database.dialect,
    undefined,
    last?.started_at ? new Date(last.started_at) : undefined,
  );
  for (const m of ledger.mismatched)
    mismatches.push({
      kind: 'reconciliation_ledger_mismatch',
      invoice_id: m.invoice_id,
      payment_id: null,
      detail: { differences: m.differences },
    });

  // 4. Webhooks.
  const events = await checkEventDelivery(tally);

  let opened = 0;
  const merchantOf = new Map(options_.map((o) => [o.invoice_id, o.merchant_id]));
  for (const m of mismatches) {
    const merchantId =
      merchantOf.get(m.invoice_id) ??
      (
        await db
          .selectFrom('invoices')
          .select('merchant_id')
          .where('id', '=', m.invoice_id)
          .executeTakeFirst()
      )?.merchant_id;
    if (!merchantId) continue;
    const subject =
      m.kind === 'reconciliation_movement_not_in_chain'
        ? `movement:${String(m.detail.movement_id)}`
        : (m.payment_id ?? `${String(m.detail.txid ?? 'ledger')}:${String(m.detail.vout ?? '')}`);
    if (
      await openReconciliationException(tally, {
        merchantId,
        invoiceId: m.invoice_id,
        paymentId: m.payment_id,
        kind: m.kind,
        subject,
        evidence: { network, ...m.detail },
      })
    )
      opened += 1;
  }

  const finished = tally.clock.now();
  const report: ReconciliationReport = {
    id: newId('rec'),
    network,
    from_height: from,
    to_height: to,
    checked: {
      payments: payments.length,
      blocks: Math.max(0, to - from + 1),
      outputs_to_invoice_addresses: outputs,
      invoices_in_ledger: ledger.invoices_checked,
    },
    mismatches,
    ledger_ok: ledger.ok,
    events,
    exceptions_opened: opened,
    started_at: iso(started),
    finished_at: iso(finished),
  };
  await tally.database.write((trx) =>
    trx
      .insertInto('reconciliation_runs')
      .values({
        id: report.id,
        network,
        from_height: from,
        to_height: to,
        mismatches: mismatches.length,
        report: JSON.stringify(report),
        started_at: iso(started),
        finished_at: iso(finished),
      })
      .execute(),
  );
  return report;
}
