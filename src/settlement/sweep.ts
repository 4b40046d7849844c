import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';
import { formatAmount } from '../core/money.ts';
import { getNetwork } from '../core/registry.ts';
import '../db/schema-money.ts';
import { SETTLED_STATUSES } from '../invoices/transition-table.ts';
import { buildPsbt } from '../refunds/bitcoin-psbt.ts';
import { validateDestination } from '../refunds/destination.ts';
import { OPEN_REFUND_STATUSES } from '../refunds/refund-rows.ts';
import { spendableOutputs } from '../refunds/spendable.ts';
import { keyOriginOf } from '../wallets/key-origin.ts';

/** Invoices whose coins are the merchant's to move: settled, or refunded (the rest is theirs). */
const SWEEPABLE = [...SETTLED_STATUSES, 'partially_refunded', 'refunded'];

/**
 * `tally sweep` for Bitcoin: one unsigned consolidation PSBT moving every unspent confirmed output
 * at the merchant's settled invoices' addresses to their cold address, minus the fee. Invoices with
 * an open refund are left alone (their coins are promised), and so are unsettled ones (an
 * underpaid customer may still be owed everything). When mined, the watcher records it as a
 * movement (swept + fee) and the next cutoff puts it in a settlement batch.
 */
export async function buildBitcoinSweep(
  tally: Tally,
  merchantId: string,
  params: { network: string; destination: string; feeRate: string; maxInputs?: number },
) {
  if (getNetwork(params.network).family !== 'bitcoin')
    throw new TallyError('unsupported_asset', `${params.network} is not a Bitcoin network.`);
  const destination = validateDestination(params.destination, params.network, 'to');
  const db = tally.database.db;
  const eligible = await db
    .selectFrom('payment_options')
    .innerJoin('invoices', 'invoices.id', 'payment_options.invoice_id')
    .select(['payment_options.id'])
    .where('payment_options.merchant_id', '=', merchantId)
    .where('payment_options.network', '=', params.network)
    .where('invoices.status', 'in', SWEEPABLE)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('refunds')
            .select('refunds.id')
            .whereRef('refunds.invoice_id', '=', 'invoices.id')
            .where('refunds.status', 'in', [...OPEN_REFUND_STATUSES]),
        ),
      ),
    )
    .execute();
  if (eligible.length === 0) throw new TallyError('invalid_state', 'No settled invoice has coins to sweep.');
  const inputs = (
    await spendableOutputs(
      db,
      merchantId,
      params.network,
      eligible.map((e) => e.id),
    )
  ).slice(0, params.maxInputs ?? 500);
  const walletId = inputs[0]?.walletId;
  if (!walletId)
    throw new TallyError('invalid_state', 'No unspent confirmed outputs at settled invoice addresses.');
  const wallet = await db
    .selectFrom('wallets')
    .select(['xpub', 'script_type', 'master_fingerprint', 'account_path'])
    .where('id', '=', walletId)
    .executeTakeFirstOrThrow();
  const sameWallet = inputs.filter((i) => i.walletId === walletId);
  const built = buildPsbt({
    networkId: params.network,
    wallet: { xpub: wallet.xpub, scriptType: wallet.script_type, origin: keyOriginOf(wallet) },
    inputs: sameWallet,
    pay: [],
    remainderTo: { address: destination, amount: 0n, role: 'sweep' },
    feeRate: params.feeRate,
  });
  const total = sameWallet.reduce((s, i) => s + i.amount, 0n);
  if (built.outputs.length === 0) throw new TallyError('invalid_state', 'The coins would not cover the fee.');
  return {
    object: 'sweep' as const,
    network: params.network,
    format: 'psbt' as const,
    psbt: built.psbt,
    txid: built.txid,
    inputs: built.inputs.map((i) => ({ outpoint: i.outpoint, amount: i.amount.toString() })),
    invoices: [...new Set(sameWallet.map((i) => i.invoiceId))].length,
    total: formatAmount(total, 8),
    fee: formatAmount(built.fee, 8),
    fee_rate: params.feeRate,
    vsize: built.vsize,
    destination,
    amount: formatAmount(total - built.fee, 8),
  };
}
