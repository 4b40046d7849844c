/**
 * The invoice aggregate as the pure state machine sees it. Storage maps rows to and from these
 * shapes; nothing here knows about SQL or HTTP.
 */
export const INVOICE_STATUSES = [
  'created',
  'awaiting_payment',
  'detected',
  'confirming',
  'paid',
  'underpaid',
  'overpaid',
  'expired',
  'late_paid',
  'cancelled',
  'failed',
  'partially_refunded',
  'refunded',
] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

export interface RateUsed {
  /** Price currency units per one unit of the asset, as a decimal string. */
  value: string;
  source: string;
  fetchedAt: Date;
}

export interface PaymentOption {
  id: string;
  asset: string;
  network: string;
  address: string;
  derivationIndex: number;
  walletId: string;
  amountDue: bigint;
  decimals: number;
  /** Depth at which a payment to this option counts as settled, resolved from the policy at creation. */
  requiredConfirmations: number;
  /** True when a non-RBF mempool payment may settle the option (value under the zero-conf threshold). */
  zeroConfAllowed: boolean;
  /** Why that depth: which rule of the policy applied, for support to explain. */
  confirmationReason: string;
  rate: RateUsed | null;
}

export type PaymentTiming = 'on_time' | 'late' | 'after_window';

export interface Payment {
  id: string;
  optionId: string;
  txid: string;
  outputIndex: number;
  amount: bigint;
  confirmations: number;
  blockHash: string | null;
  blockHeight: number | null;
  /** Signals BIP125 replaceability: never settled at zero confirmations. */
  rbf: boolean;
  seenAt: Date;
  timing: PaymentTiming;
  /** Counted toward the invoice; false for duplicates, extras after settlement and after-window deposits. */
  credited: boolean;
  removed: boolean;
  removedReason: string | null;
  /** Money that arrived on another network or as another asset than its option's: never credited. */
  received?: ReceivedInstead;
}

/** What a misdirected payment really was (the option says what was asked for). */
export interface ReceivedInstead {
  kind: 'wrong_network' | 'wrong_asset';
  network: string;
  asset: string;
  decimals: number;
}

export interface InvoicePolicy {
  underpaymentToleranceBps: number;
  overpaymentToleranceBps: number;
  /** Seconds after expiry during which payments are still matched (as late). */
  monitoringWindowSeconds: number;
}

export interface Invoice {
  id: string;
  merchantId: string;
  status: InvoiceStatus;
  createdAt: Date;
  expiresAt: Date;
  policy: InvoicePolicy;
  options: PaymentOption[];
  payments: Payment[];
  /** The option the first credited payment went to; later payments elsewhere are exceptions. */
  selectedOptionId: string | null;
  refundedAmount: bigint;
  /** Set only by an authorised operator's mark_paid action, with its reason stored on the transition. */
  manuallyPaid: boolean;
  /** Incremented for every event the invoice emits, so receivers can discard stale snapshots. */
  sequence: number;
}

export function monitoringUntil(invoice: Pick<Invoice, 'expiresAt' | 'policy'>): Date {
  return new Date(invoice.expiresAt.getTime() + invoice.policy.monitoringWindowSeconds * 1000);
}
