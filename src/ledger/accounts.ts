/**
 * The chart of accounts, per merchant and per asset on a network (docs/decisions/0011). Debit-normal
 * accounts hold what the merchant has; credit-normal ones say where it came from or who it is owed
 * to. A balance is always a sum of entries, never a stored number.
 */
export const ACCOUNTS = {
  /** Coins at the merchant's invoice addresses (settled on chain, not yet moved out). */
  invoiceAddresses: 'assets:invoice_addresses',
  /** Coins moved out of invoice addresses to the merchant's own wallets (sweeps, refund change). */
  swept: 'assets:swept',
  /** An operator marked the invoice paid without the coins on chain (paid another way). */
  offChain: 'assets:settled_off_chain',
  /** What invoices earned: their amount due, once settled. */
  sales: 'revenue:sales',
  /** Contra-revenue: refunds of earned money. */
  salesRefunds: 'revenue:refunds',
  /**
   * A full native-coin EVM refund pays its gas from the refund: the customer's refund bears the
   * whole gas allowance (gas × max fee), and the part the network did not burn stays at the
   * invoice address as the merchant's, to sweep with the rest (docs/decisions/0011 §14).
   */
  unusedRefundGas: 'revenue:unused_refund_gas',
  /** Received for an invoice that is not settled (underpaid, in review, expired, failed): owed or pending. */
  customerDeposits: 'liabilities:customer_deposits',
  /** Received beyond the amount due on a settled invoice: the customer's until refunded or accepted. */
  overpayments: 'liabilities:overpayments',
  /** Money that arrived but is not credited (duplicates, after the window, wrong option): in review. */
  unapplied: 'liabilities:unapplied',
  /** The shortfall accepted inside the merchant's underpayment tolerance. */
  underpaymentTolerance: 'expenses:underpayment_tolerance',
  /** Miners' fees paid by the merchant's refunds and sweeps. */
  networkFees: 'expenses:network_fees',
  /** Refunds booked on the invoice and not yet seen leaving on chain (zero once both sides are in). */
  refundsInTransit: 'clearing:refunds_in_transit',
} as const;

export type Account = (typeof ACCOUNTS)[keyof typeof ACCOUNTS];

/** One (account, asset, network) bucket; a position maps these to a signed amount (debit positive). */
export interface Bucket {
  account: Account;
  asset: string;
  network: string;
}

export const bucketKey = (b: Bucket): string => `${b.account}|${b.asset}|${b.network}`;

export function parseBucketKey(key: string): Bucket {
  const [account = '', asset = '', network = ''] = key.split('|');
  return { account: account as Account, asset, network };
}

/** Signed amounts per bucket; debit positive, credit negative. Zero buckets are dropped. */
export type Position = Map<string, bigint>;

export function addTo(position: Position, bucket: Bucket, amount: bigint): void {
  if (amount === 0n) return;
  const key = bucketKey(bucket);
  const next = (position.get(key) ?? 0n) + amount;
  if (next === 0n) position.delete(key);
  else position.set(key, next);
}

/** target − booked: what a new transaction must post to bring the books to the target. */
export function difference(target: Position, booked: Position): Position {
  const out: Position = new Map();
  for (const [key, value] of target) {
    const d = value - (booked.get(key) ?? 0n);
    if (d !== 0n) out.set(key, d);
  }
  for (const [key, value] of booked) if (!target.has(key)) out.set(key, -value);
  return out;
}

export function positionsEqual(a: Position, b: Position): boolean {
  return difference(a, b).size === 0;
}
