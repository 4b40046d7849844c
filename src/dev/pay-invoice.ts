import { EvmRpc } from '../chains/evm/rpc-client.ts';
import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';
import { formatAmount, unitsFromDb } from '../core/money.ts';
import { findAsset } from '../core/registry.ts';
import { DEVNET_NETWORK } from './devnet.ts';
import { DEV_ACCOUNTS, mint, sendNative, transferToken } from './evm-tools.ts';
import { devCustomerBtcAddress, payBitcoinOnDevnet } from './pay-bitcoin.ts';

export interface DevPayment {
  invoice_id: string;
  option_id: string;
  network: string;
  asset: string;
  /** Decimal, in the asset's unit ("19.99"). */
  amount: string;
  amount_base_units: string;
  txid: string;
  from: string;
}

/**
 * DEV MODE ONLY: pays an invoice's devnet option in full from the dev "customer", the way a wallet
 * would (an ERC-20 transfer, ether, or a signed regtest transaction and a block), so the invoice can
 * be watched going to paid. The evm-devnet option is preferred when there are several. The gateway
 * learns of it only through its watcher, like any payment. Refused in production mode.
 */
export async function payInvoiceOnDevnet(
  tally: Tally,
  input: {
    invoiceId: string;
    merchantId?: string;
    optionId?: string;
    rpcUrl: string | null;
    /** The devnet's btcd, when it runs one. */
    bitcoinRpcUrl?: string | null;
  },
): Promise<DevPayment> {
  if (tally.config.mode !== 'dev') {
    throw new TallyError('dev_mode_only', 'Paying invoices from the devnet exists in dev mode only.');
  }
  let query = tally.database.read
    .selectFrom('payment_options')
    .selectAll()
    .where('invoice_id', '=', input.invoiceId)
    .orderBy('position');
  if (input.merchantId) query = query.where('merchant_id', '=', input.merchantId);
  const options = await query.execute();
  if (options.length === 0) throw new TallyError('not_found', `No invoice ${input.invoiceId}.`);
  const payable = new Set([DEVNET_NETWORK, ...(input.bitcoinRpcUrl ? ['bitcoin-regtest'] : [])]);
  const listed = options.map((o) => `${o.id} (${o.asset} on ${o.network})`).join(', ');
  // Without btcd the devnet has no Bitcoin chain: say so where a regtest option cannot be paid.
  const noBtcd =
    !input.bitcoinRpcUrl && options.some((o) => o.network === 'bitcoin-regtest')
      ? ' The devnet has no Bitcoin regtest chain: install btcd (bash scripts/install-btcd.sh) and restart.'
      : '';
  if (input.optionId && !options.some((o) => o.id === input.optionId)) {
    throw new TallyError(
      'validation_failed',
      `The invoice ${input.invoiceId} has no option ${input.optionId}; its options are ${listed}.`,
      { issues: [{ path: 'option_id', message: `must be one of the invoice's options: ${listed}` }] },
    );
  }
  const option = input.optionId
    ? options.find((o) => o.id === input.optionId)
    : (options.find((o) => o.network === DEVNET_NETWORK) ?? options.find((o) => payable.has(o.network)));
  if (option && !payable.has(option.network)) {
    throw new TallyError(
      'invalid_state',
      `Option ${option.id} is ${option.asset} on ${option.network}; the devnet pays only options on ${[...payable].join(' or ')}.${noBtcd}`,
      { issues: [{ path: 'option_id', message: `must name an option on ${[...payable].join(' or ')}` }] },
    );
  }
  if (!option) {
    throw new TallyError(
      'invalid_state',
      `The invoice has no option on ${[...payable].join(' or ')} to pay; its options are ${listed}.${noBtcd}`,
      {
        issues: [{ path: 'option_id', message: `must name an option on ${[...payable].join(' or ')}` }],
      },
    );
  }
  if (!input.rpcUrl) {
    throw new TallyError(
      'invalid_state',
      'No devnet is running (TALLY_DEVNET=off, or a node is configured).',
    );
  }
  const asset = findAsset(option.asset, option.network);
  if (!asset) throw new TallyError('unsupported_asset', `${option.asset} on ${option.network} is unknown.`);
  const amount = unitsFromDb(option.amount_due);
  const rpc = new EvmRpc({ urls: [input.rpcUrl] });
  let txid: string;
  if (option.network === 'bitcoin-regtest' && input.bitcoinRpcUrl) {
    txid = await payBitcoinOnDevnet(input.bitcoinRpcUrl, option.address, amount);
  } else if (asset.contract === null) {
    txid = (await sendNative(rpc, DEV_ACCOUNTS.customer, option.address, amount)).hash;
  } else {
    await mint(rpc, asset.contract, DEV_ACCOUNTS.customer, amount);
    txid = (await transferToken(rpc, asset.contract, DEV_ACCOUNTS.customer, option.address, amount)).hash;
  }
  return {
    invoice_id: input.invoiceId,
    option_id: option.id,
    network: option.network,
    asset: option.asset,
    amount: formatAmount(amount, option.decimals),
    amount_base_units: amount.toString(),
    txid,
    from: option.network === 'bitcoin-regtest' ? await devCustomerBtcAddress() : DEV_ACCOUNTS.customer,
  };
}
