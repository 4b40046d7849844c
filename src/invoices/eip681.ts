/**
 * EIP-681 payment requests, what an EVM checkout page puts in its QR code:
 *
 *   native coin  ethereum:<recipient>@<chainId>?value=<wei>
 *   ERC-20       ethereum:<token>@<chainId>/transfer?address=<recipient>&uint256=<base units>
 *
 * The chain id is always written, also for Ethereum mainnet where it could be omitted: a wallet
 * that honours it cannot send on the wrong network (SCENARIOS case 16), and one that ignores it
 * is no worse off. Amounts are integers in base units straight from the bigint (EIP-681 allows
 * scientific notation, which some wallets misread; a plain integer is never ambiguous). A zero
 * amount is left out so the wallet asks the customer.
 */
export function eip681Uri(input: {
  chainId: number;
  recipient: string;
  amountBaseUnits: bigint;
  /** The token contract, or null for the network's native coin. */
  contract: string | null;
}): string {
  const { chainId, recipient, amountBaseUnits, contract } = input;
  if (contract === null) {
    const value = amountBaseUnits > 0n ? `?value=${amountBaseUnits.toString()}` : '';
    return `ethereum:${recipient}@${chainId}${value}`;
  }
  const amount = amountBaseUnits > 0n ? `&uint256=${amountBaseUnits.toString()}` : '';
  return `ethereum:${contract}@${chainId}/transfer?address=${recipient}${amount}`;
}
