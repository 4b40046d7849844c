import { formatAmount } from '../core/money.ts';
import { findAsset, findNetwork } from '../core/registry.ts';
import { eip681Uri } from './eip681.ts';
import type { PaymentOption } from './types.ts';

/**
 * BIP21 `bitcoin:<address>?amount=<BTC>&label=<label>`: what a checkout page puts in its QR code
 * and "open in wallet" link, so the customer's wallet fills in address and exact amount itself
 * (typing an amount by hand is how underpayments happen).
 *
 * The amount is decimal BTC formatted from the bigint base units (never a JS number, which would
 * print 1e-8 for one satoshi), with trailing zeros trimmed. The same "bitcoin:" scheme serves
 * testnet and regtest: the address's prefix already says which network it is.
 */
export function bip21Uri(address: string, amountBaseUnits: bigint, decimals: number, label: string): string {
  const params: string[] = [];
  // A zero amount would tell the wallet to send nothing; leave it out and let the customer fill it in.
  if (amountBaseUnits > 0n) params.push(`amount=${formatAmount(amountBaseUnits, decimals)}`);
  // encodeURIComponent escapes the query's own delimiters (& = # ?), spaces and non-ASCII (as UTF-8),
  // so a label cannot add parameters such as a second amount.
  if (label !== '') params.push(`label=${encodeURIComponent(label)}`);
  return `bitcoin:${address}${params.length ? `?${params.join('&')}` : ''}`;
}

/**
 * The option's payment URI: BIP21 for Bitcoin networks, EIP-681 for EVM networks (src/invoices/
 * eip681.ts); null while the option has no address yet.
 */
export function paymentUri(option: PaymentOption, label: string): string | null {
  if (option.address === '') return null;
  const network = findNetwork(option.network);
  if (network?.family === 'bitcoin')
    return bip21Uri(option.address, option.amountDue, option.decimals, label);
  if (network?.family === 'evm' && network.chainId !== undefined) {
    const asset = findAsset(option.asset, option.network);
    if (!asset) return null;
    return eip681Uri({
      chainId: network.chainId,
      recipient: option.address,
      amountBaseUnits: option.amountDue,
      contract: asset.contract,
    });
  }
  return null;
}
