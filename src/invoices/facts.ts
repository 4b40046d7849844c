import type { InvoiceStatus } from './types.ts';

/**
 * Facts are what the state machine is told: chain observations (from adapters, which never decide
 * state), the clock, and authorised actions. Each fact has an id; a transition is unique on it, so a
 * fact applied twice changes nothing the second time.
 */
export interface ObservedPayment {
  paymentId: string;
  optionId: string;
  txid: string;
  outputIndex: number;
  amount: bigint;
  rbf: boolean;
  confirmations: number;
  blockHash: string | null;
  blockHeight: number | null;
  /** When the chain first showed it (mempool time or block time); defaults to now. */
  seenAt?: Date;
  /**
   * Set when the money arrived on another network or as another asset than the option asks for
   * (EVM: the invoice's address is the same on every chain and for every token). Such a payment is
   * recorded and opens an exception with this evidence; it is never credited.
   */
  misdirected?: Misdirection;
}

export interface Misdirection {
  kind: 'wrong_network' | 'wrong_asset';
  /** What actually arrived: the network it arrived on and the asset it is. */
  network: string;
  asset: string;
  decimals: number;
  /** Chain id, token contract, log index, block: what support needs to trace it. */
  evidence: Record<string, string | number | null>;
}

export interface Actor {
  kind: 'api_key' | 'user' | 'system';
  id: string;
}

export type Fact =
  | { kind: 'options_assigned'; id: string }
  | { kind: 'payment_seen'; id: string; payment: ObservedPayment }
  | {
      kind: 'payment_confirmations';
      id: string;
      paymentId: string;
      confirmations: number;
      blockHash: string | null;
      blockHeight: number | null;
    }
  | { kind: 'payment_reorged'; id: string; paymentId: string }
  | {
      kind: 'payment_removed';
      id: string;
      paymentId: string;
      reason: 'replaced' | 'double_spent' | 'dropped';
      replacement?: ObservedPayment;
    }
  | { kind: 'expiry_due'; id: string }
  | { kind: 'window_closed'; id: string }
  | { kind: 'merchant_cancel'; id: string; actor: Actor }
  | { kind: 'mark_paid'; id: string; actor: Actor; reason: string }
  | { kind: 'mark_failed'; id: string; actor: Actor; reason: string }
  /**
   * A refund's transaction was booked: `amount` is now refunded. `refundId` names the refund, so
   * its `refund.completed` event can carry it (an invoice may have several); the state machine
   * does not read it.
   */
  | { kind: 'refund_completed'; id: string; refundId: string; amount: bigint; actor: Actor }
  /**
   * A completed refund's transaction left the chain (its block was orphaned) and nothing pays it
   * any more: `amount` is no longer refunded. `refundedFrom` is the status the invoice's first
   * refund left (its transition's `from`): with nothing refunded any more the invoice goes back
   * there — an operator's `failed`/`cancelled` as is, otherwise re-derived from its payments.
   * `refundId`: the refund reverted, for its `refund.reverted` event.
   */
  | {
      kind: 'refund_reverted';
      id: string;
      refundId: string;
      amount: bigint;
      refundedFrom: InvoiceStatus;
      actor: Actor;
    };

export type FactKind = Fact['kind'];
