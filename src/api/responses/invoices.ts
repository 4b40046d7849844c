import { Type } from '@sinclair/typebox';
import { INVOICE_STATUSES } from '../../invoices/types.ts';
import { BaseUnits, DateTime, Decimal, Id, Literals, Nullable, Ref, StringMap } from './common.ts';

/** The invoice as src/invoices/serialize.ts writes it: the API's and every event's `data.invoice`. */

const Tier = Type.Object({
  max_value: Nullable(Type.String({ description: 'a decimal in the policy value currency' })),
  confirmations: Type.Integer({ minimum: 1 }),
});

/** A resolved policy: every field present (merchant defaults merged with the invoice's overrides). */
export const Policy = Type.Object({
  expiry_seconds: Type.Integer(),
  monitoring_window_seconds: Type.Integer(),
  underpayment_tolerance_bps: Type.Integer(),
  overpayment_tolerance_bps: Type.Integer(),
  value_currency: Type.String(),
  zero_conf_max_value: Nullable(Type.String({ description: 'a decimal in value_currency' })),
  confirmation_tiers: StringMap(Type.Array(Tier), {
    description: 'tiers per network id; a network without tiers uses its registry default',
  }),
});

export const PaymentOption = Type.Object({
  id: Id('opt'),
  asset: Type.String(),
  network: Type.String(),
  address: Type.String(),
  payment_uri: Type.String({ description: 'BIP21 / EIP-681 URI for wallets and QR codes' }),
  amount_due: Decimal,
  amount_due_base_units: BaseUnits,
  decimals: Type.Integer({ minimum: 0 }),
  required_confirmations: Type.Integer({ minimum: 0 }),
  zero_conf_allowed: Type.Boolean(),
  confirmation_reason: Type.String({ description: 'which policy rule set the depth' }),
  rate: Nullable(
    Type.Object({
      value: Type.String({ description: 'price currency units per one unit of the asset (decimal)' }),
      source: Type.String(),
      fetched_at: DateTime,
    }),
  ),
});

export const Payment = Type.Object({
  id: Id('pay'),
  option_id: Id('opt'),
  asset: Nullable(Type.String()),
  network: Nullable(Type.String()),
  misdirected: Nullable(Literals(['wrong_network', 'wrong_asset'])),
  txid: Type.String(),
  output_index: Type.Integer({ minimum: 0 }),
  amount: Decimal,
  amount_base_units: BaseUnits,
  confirmations: Type.Integer({ minimum: 0 }),
  required_confirmations: Nullable(Type.Integer({ minimum: 0 })),
  settled: Type.Boolean(),
  block_hash: Nullable(Type.String()),
  block_height: Nullable(Type.Integer({ minimum: 0 })),
  rbf: Type.Boolean(),
  seen_at: DateTime,
  timing: Literals(['on_time', 'late', 'after_window']),
  credited: Type.Boolean(),
  removed: Type.Boolean(),
  removed_reason: Nullable(Type.String()),
});

export const Invoice = Type.Object({
  id: Id('inv'),
  object: Type.Literal('invoice'),
  status: Literals(INVOICE_STATUSES),
  customer_status: Literals([
    'waiting_for_payment',
    'payment_received',
    'confirming',
    'complete',
    'expired',
    'cancelled',
    'issue_detected',
  ]),
  sequence: Type.Integer({ minimum: 0, description: 'per-invoice event number: drop stale snapshots' }),
  merchant_order_id: Nullable(Type.String()),
  customer_id: Nullable(Type.String()),
  description: Nullable(Type.String()),
  price: Type.Object({ amount: Decimal, currency: Type.String() }),
  metadata: StringMap(Type.String()),
  success_url: Nullable(Type.String()),
  cancel_url: Nullable(Type.String()),
  created_at: DateTime,
  updated_at: DateTime,
  expires_at: DateTime,
  monitoring_until: DateTime,
  policy: Ref('Policy'),
  payment_options: Type.Array(Ref('PaymentOption')),
  selected_option_id: Nullable(Id('opt')),
  amount_paid: Decimal,
  amount_pending: Decimal,
  shortfall: Decimal,
  refunded_amount: Decimal,
  manually_paid: Type.Boolean(),
  payments: Type.Array(Ref('Payment')),
  fulfilment: Nullable(
    Type.Object({
      fulfilled_at: DateTime,
      reference: Nullable(Type.String()),
      note: Nullable(Type.String()),
    }),
  ),
});

export const Transition = Type.Object({
  id: Type.String(),
  from: Literals(INVOICE_STATUSES),
  to: Literals(INVOICE_STATUSES),
  cause: Type.Object({ kind: Type.String(), id: Type.String() }),
  actor: Nullable(Type.Object({ kind: Type.String(), id: Nullable(Type.String()) })),
  reason: Nullable(Type.String()),
  created_at: DateTime,
});
