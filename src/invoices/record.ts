import type { Policy } from './policy.ts';
import type { Invoice } from './types.ts';

/** The invoice aggregate plus the merchant-facing fields the state machine does not need. */
export interface InvoiceRecord extends Invoice {
  merchantOrderId: string | null;
  customerId: string | null;
  description: string | null;
  priceAmount: bigint;
  priceCurrency: string;
  metadata: Record<string, string>;
  successUrl: string | null;
  cancelUrl: string | null;
  /** The full policy snapshot as merged at creation (the state machine uses `policy`). */
  policySnapshot: Policy;
  fulfilledAt: Date | null;
  fulfilment: { reference: string | null; note: string | null } | null;
  updatedAt: Date;
  version: number;
}
