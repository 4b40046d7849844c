import { formatAmount } from '../core/money.ts';
import { findNetwork } from '../core/registry.ts';
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
 * The option's payment URI: BIP21 for Bitcoin networks; null elsewhere until EVM options get their
 * EIP-681 URI, and null while the option has no address yet.
 */
export function paymentUri(option: PaymentOption, label: string): string | null {
  if (findNetwork(option.network)?.family !== 'bitcoin' || option.address === '') return null;
  return bip21Uri(option.address, option.amountDue, option.decimals, label);
}
