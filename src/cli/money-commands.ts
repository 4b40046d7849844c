import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Tally } from '../context.ts';
import { TallyError, validationError } from '../core/errors.ts';
import { getNetwork } from '../core/registry.ts';
import { configuredBitcoinNode } from '../jobs/money-jobs.ts';
import { backfillLedger } from '../ledger/backfill.ts';
import { ledgerBalances } from '../ledger/balances.ts';
import { verifyLedger } from '../ledger/verify.ts';
import { reconcileBitcoin } from '../reconciliation/reconcile-bitcoin.ts';
import { closeSettlementBatches } from '../settlement/batches.ts';
import { type ReportFormat, reportStream, sqlitePathOf } from '../settlement/report-format.ts';
import { buildBitcoinSweep } from '../settlement/sweep.ts';
import { buildEvmSweep } from '../settlement/sweep-evm.ts';
import { type ProgressStream, progressBar } from './progress.ts';

export const MONEY_USAGE = `  tally ledger verify [--merchant MER]   prove every ledger transaction balances and every invoice
                                       has exactly the entries its records call for (exit 1 if not)
  tally ledger balances --merchant MER  balances per account, asset and network
  tally ledger backfill [--merchant MER] book invoices paid before the ledger existed (idempotent)
  tally reconcile [--from-height H]     re-check payments, deposits, the ledger and event delivery
                                       against the node (TALLY_BITCOIN_RPC_URL); mismatches become
                                       exceptions; prints the run's report
  tally settlement close [--cutoff T]   put movements before T (default now) into settlement batches
  tally export --merchant MER --from T --to T [--format csv|json] [--out FILE]
                                       the settlement report of [from, to), streamed; progress on stderr
  tally sweep --merchant MER --network NET --to ADDRESS [--fee-rate SAT_PER_VB]
                                       unsigned consolidation of settled invoices' coins to a cold
                                       address: a PSBT (Bitcoin) or one EIP-1559 transfer per address
                                       with the gas it needs (EVM). Nothing is signed or broadcast`;

type Flags = Record<string, string | boolean | string[] | undefined>;
type Print = (human: string, data: unknown) => void;

function need(flags: Flags, name: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v === '') throw new TallyError('validation_failed', `--${name} is required.`);
  return v;
}

function time(flags: Flags, name: string): Date {
  const text = need(flags, name);
  const d = new Date(text);
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(text))
    throw validationError([{ path: name, message: 'must be an ISO date or time such as 2026-11-01' }]);
  return d;
}

/** The money-trail commands; null when `command` is not one of them. */
export async function runMoneyCommand(
  command: string,
  flags: Flags,
  print: Print,
  withTally: <T>(fn: (tally: Tally) => Promise<T>) => Promise<T>,
  progress: ProgressStream,
): Promise<number | null> {
  if (!COMMANDS.has(command)) return null;
  return withTally((t) => run(command, flags, t, print, progress));
}

/** Every command `run` handles; test/cli/command-sets.test.ts holds it to MONEY_USAGE. */
const COMMANDS = new Set([
  'ledger verify',
  'ledger balances',
  'ledger backfill',
  'reconcile',
  'settlement close',
  'export',
  'sweep',
]);

async function run(
  command: string,
  flags: Flags,
  t: Tally,
  print: Print,
  progress: ProgressStream,
): Promise<number> {
  switch (command) {
    case 'ledger verify': {
      const merchant = typeof flags.merchant === 'string' ? flags.merchant : undefined;
      const report = await verifyLedger(t.database.db, t.database.dialect, merchant);
      print(
        report.ok
          ? `Ledger verified: ${report.transactions_checked} transactions balance, ${report.invoices_checked} invoices have exactly their entries.`
          : `Ledger NOT verified: ${report.unbalanced.length} unbalanced transactions, ${report.mismatched.length} invoices differ, ${report.movements_unbooked.length} movements unbooked.\n${JSON.stringify(report, null, 2)}`,
        report,
      );
      return report.ok ? 0 : 1;
    }
    case 'ledger backfill': {
      const merchant = typeof flags.merchant === 'string' ? flags.merchant : undefined;
      const result = await backfillLedger(t, merchant);
      print(`Booked ${result.booked} of ${result.checked} invoices that had money and no entries.`, result);
      return 0;
    }
    case 'ledger balances': {
      const balances = await ledgerBalances(t.database.db, need(flags, 'merchant'));
      print(
        balances.map((b) => `${b.asset}/${b.network}  ${b.account.padEnd(34)} ${b.balance}`).join('\n') ||
          'No entries yet.',
        balances,
      );
      return 0;
    }
    case 'reconcile': {
      const chain = configuredBitcoinNode(t);
      const from = flags['from-height'];
      const report = await reconcileBitcoin(t, chain?.node ?? null, chain?.network ?? 'none', {
        ...(typeof from === 'string' ? { fromHeight: Number(from) } : {}),
      });
      print(
        // An empty range (no node, or nothing new) reads "no blocks", not "blocks 0..-1".
        `Reconciliation ${report.id} (${report.network}, ${report.to_height >= report.from_height ? `blocks ${report.from_height}..${report.to_height}` : 'no blocks'}): ` +
          `${report.checked.payments} payments, ${report.checked.outputs_to_invoice_addresses} deposits, ` +
          `${report.checked.invoices_in_ledger} invoices in the ledger checked; ${report.mismatches.length} mismatches, ` +
          `${report.exceptions_opened} exceptions opened; events ${report.events.ok ? 'ok' : 'NOT delivered'}.` +
          (chain ? '' : ' No Bitcoin node configured: chain checks skipped.'),
        report,
      );
      return report.mismatches.length === 0 && report.events.ok ? 0 : 1;
    }
    case 'settlement close': {
      const cutoff = typeof flags.cutoff === 'string' ? time(flags, 'cutoff') : t.clock.now();
      const batches = await closeSettlementBatches(t, cutoff);
      print(
        batches.map((b) => `Batch ${b.id}: ${b.movements} movements of ${b.merchant_id}`).join('\n') ||
          'Nothing to batch.',
        batches,
      );
      return 0;
    }
    case 'export': {
      const format = (typeof flags.format === 'string' ? flags.format : 'csv') as ReportFormat;
      if (format !== 'csv' && format !== 'json')
        throw validationError([{ path: 'format', message: 'must be csv or json' }]);
      const bar = progressBar(progress, 'export', Date.now, 'payments');
      const stream = reportStream(
        t.database.db,
        {
          merchantId: need(flags, 'merchant'),
          from: time(flags, 'from'),
          to: time(flags, 'to'),
          sqlitePath: sqlitePathOf(t),
          onProgress: (done, total) => bar.update(done, total),
        },
        format,
      );
      const out = typeof flags.out === 'string' ? flags.out : null;
      try {
        if (out) await pipeline(stream, createWriteStream(out));
        else for await (const chunk of stream) process.stdout.write(chunk as string);
      } finally {
        bar.finish();
      }
      if (out) print(`Wrote ${out}`, { out });
      return 0;
    }
    case 'sweep': {
      const network = need(flags, 'network');
      const feeRate = typeof flags['fee-rate'] === 'string' ? flags['fee-rate'] : '2';
      const params = { network, destination: need(flags, 'to'), feeRate };
      if (getNetwork(network).family === 'bitcoin') {
        const sweep = await buildBitcoinSweep(t, need(flags, 'merchant'), params);
        print(
          `Unsigned sweep of ${sweep.total} BTC from ${sweep.inputs.length} outputs (${sweep.invoices} invoices) to ${sweep.destination}: ` +
            `${sweep.amount} after a fee of ${sweep.fee} (${sweep.fee_rate} sat/vB, ${sweep.vsize} vB). Sign this PSBT:\n${sweep.psbt}`,
          sweep,
        );
        return 0;
      }
      const sweep = await buildEvmSweep(t, need(flags, 'merchant'), params);
      print(
        sweep.transfers
          .map(
            (x) =>
              `${x.asset} ${x.amount} from ${x.from}: gas ${x.transaction.gas_needed} wei needed, ${x.transaction.gas_shortfall} missing\n  ${x.transaction.unsigned}`,
          )
          .join('\n') || 'Nothing to sweep.',
        sweep,
      );
      return 0;
    }
    default:
      throw new TallyError('internal', `unhandled command ${command}`);
  }
}
