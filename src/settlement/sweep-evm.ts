import { decodeFunctionResult, encodeFunctionData, erc20Abi } from 'viem';
import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';
import { formatAmount } from '../core/money.ts';
import { findAsset, getNetwork } from '../core/registry.ts';
import { SETTLED_STATUSES } from '../invoices/transition-table.ts';
import { validateDestination } from '../refunds/destination.ts';
import { buildEvmTransfer, type EvmTransfer, evmRpcFor } from '../refunds/evm-transfer.ts';
import { OPEN_REFUND_STATUSES } from '../refunds/refund-rows.ts';

/** Addresses looked at per run: each costs a balance read and a gas estimate. */
const MAX_ADDRESSES = 200;

/**
 * `tally sweep` on an EVM network: every EVM address is its own account, so a sweep is one
 * unsigned EIP-1559 transfer per invoice address (of settled invoices without an open refund)
 * that holds the asset today — the balance is read from the node, not inferred from payments
 * (it includes money Tally holds no payment for). When mined, the EVM watcher books each transfer
 * as a movement (record-evm-movement.ts). A token transfer needs native coin
 * for gas at that address: each transfer states `gas_needed` and the `gas_shortfall` to send first.
 */
export async function buildEvmSweep(
  tally: Tally,
  merchantId: string,
  params: { network: string; destination: string },
): Promise<{
  object: 'evm_sweep';
  network: string;
  destination: string;
  transfers: Array<{ asset: string; from: string; amount: string; transaction: EvmTransfer }>;
}> {
  if (getNetwork(params.network).family !== 'evm')
    throw new TallyError('unsupported_asset', `${params.network} is not an EVM network.`);
  const destination = validateDestination(params.destination, params.network, 'to');
  const rows = await tally.database.db
    .selectFrom('payment_options')
    .innerJoin('invoices', 'invoices.id', 'payment_options.invoice_id')
    .select(['payment_options.address', 'payment_options.asset'])
    .distinct()
    .where('payment_options.merchant_id', '=', merchantId)
    .where('payment_options.network', '=', params.network)
    .where('invoices.status', 'in', [...SETTLED_STATUSES, 'partially_refunded', 'refunded'])
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
    .limit(MAX_ADDRESSES)
    .execute();
  const rpc = evmRpcFor(tally, params.network);
  const balances = await rpc.batch<string>(
    rows.map((r) => {
      const contract = findAsset(r.asset, params.network)?.contract;
      return contract
        ? {
            method: 'eth_call',
            params: [
              {
                to: contract,
                data: encodeFunctionData({
                  abi: erc20Abi,
                  functionName: 'balanceOf',
                  args: [r.address as `0x${string}`],
                }),
              },
              'latest',
            ],
          }
        : { method: 'eth_getBalance', params: [r.address, 'latest'] };
    }),
  );
  const transfers = [];
  for (const [i, r] of rows.entries()) {
    const raw = balances[i] as string;
    const contract = findAsset(r.asset, params.network)?.contract;
    const balance = contract
      ? decodeFunctionResult({ abi: erc20Abi, functionName: 'balanceOf', data: raw as `0x${string}` })
      : BigInt(raw);
    if (balance === 0n) continue;
    try {
      const transaction = await buildEvmTransfer(rpc, {
        network: params.network,
        asset: r.asset,
        from: r.address,
        to: destination,
        amount: balance,
        gasFromAmount: !contract,
      });
      const decimals = findAsset(r.asset, params.network)?.decimals ?? 18;
      transfers.push({
        asset: r.asset,
        from: r.address,
        amount: formatAmount(BigInt(transaction.amount), decimals),
        transaction,
      });
    } catch (error) {
      // Native dust that cannot pay its own gas is left where it is.
      if (!(error instanceof TallyError && error.code === 'invalid_state')) throw error;
    }
  }
  return { object: 'evm_sweep', network: params.network, destination, transfers };
}
