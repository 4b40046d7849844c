import { isAddress } from 'viem';
import { scriptForAddress } from '../chains/bitcoin/address-script.ts';
import { validationError } from '../core/errors.ts';
import { getNetwork } from '../core/registry.ts';

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
