import type { Kysely } from 'kysely';
import { getAddress, isAddress } from 'viem';
import { scriptForAddress } from '../chains/bitcoin/address-script.ts';
import { validationError } from '../core/errors.ts';
import { getNetwork } from '../core/registry.ts';
import type { Schema } from '../db/schema.ts';

/**
 * A refund destination must be an address of the refund's own network: a testnet address for a
 * mainnet refund, or an EVM address with a wrong checksum, is refused naming the field, so a
 * customer's typo cannot send coins nowhere.
 */
export function validateDestination(address: string, network: string, field = 'destination'): string {
  const trimmed = address.trim();
  if (getNetwork(network).family === 'bitcoin') {
    try {
      scriptForAddress(trimmed, network);
    } catch {
      throw validationError([{ path: field, message: `is not a valid ${network} address` }]);
    }
    return trimmed;
  }
  // Mixed case must carry a valid EIP-55 checksum; all-lowercase is accepted as unchecksummed.
  if (!isAddress(trimmed, { strict: true }) || /^0x0{40}$/i.test(trimmed))
    throw validationError([{ path: field, message: `is not a valid ${network} address (EIP-55 checksum)` }]);
  return trimmed;
}

/**
 * The spellings a valid destination may be stored under in the address pool: EVM addresses are
 * stored checksummed (a customer may give them in lower case), Bitcoin bech32 ones in lower case
 * (valid in upper case too). Base58 addresses are case-sensitive and kept as given.
 */
function spellings(address: string, network: string): string[] {
  if (getNetwork(network).family === 'evm')
    return [...new Set([address, address.toLowerCase(), getAddress(address)])];
  return /^(bc|tb|bcrt)1/i.test(address) ? [...new Set([address, address.toLowerCase()])] : [address];
}

/**
 * A refund must leave the merchant: an address of the merchant's own address pool (the refunded
 * invoice's address, another invoice's, or one derived and not yet handed out) is refused naming
 * the field. Coins sent there would come back as a new payment to that invoice, not reach the
 * customer, while the refund completed.
 */
export async function refuseOwnAddress(
  db: Kysely<Schema>,
  merchantId: string,
  address: string,
  network: string,
  field = 'destination',
): Promise<void> {
  const own = await db
    .selectFrom('wallet_addresses as wa')
    .innerJoin('wallets as w', 'w.id', 'wa.wallet_id')
    .select('wa.address')
    .where('w.merchant_id', '=', merchantId)
    .where('wa.address', 'in', spellings(address, network))
    .limit(1)
    .executeTakeFirst();
  if (own)
    throw validationError([
      {
        path: field,
        message:
          "is one of this merchant's own invoice addresses; a refund sent there would come back as a payment, not reach the customer",
      },
    ]);
}
