import { Type } from '@sinclair/typebox';
import { BaseUnits, DateTime, Decimal, Id, Literals, Nullable, Ref } from './common.ts';

/** src/refunds/refund-rows.ts serializeRefund, and the unsigned transactions Tally builds. */

const RefundStatus = Literals([
  'awaiting_destination',
  'pending_approval',
  'approved',
  'completed',
  'cancelled',
]);

/** Bitcoin: a PSBT for the merchant's signer (src/refunds/build-refund-transaction.ts). */
export const PsbtTransaction = Type.Object({
  format: Type.Literal('psbt'),
  psbt: Type.String({ description: 'base64 PSBT' }),
  txid: Type.String(),
  vsize: Type.Integer(),
  fee_rate: Type.String({ description: 'sat/vB' }),
  fee: BaseUnits,
  inputs: Type.Array(Type.Object({ outpoint: Type.String(), amount: BaseUnits })),
  outputs: Type.Array(
    Type.Object({ address: Type.String(), amount: BaseUnits, role: Literals(['refund', 'change']) }),
  ),
});

/** EVM: an unsigned EIP-1559 transaction (src/refunds/evm-transfer.ts). */
export const Eip1559Transaction = Type.Object({
  format: Type.Literal('eip1559'),
  chain_id: Type.Integer(),
  from: Type.String(),
  to: Type.String(),
  nonce: Type.Integer({ minimum: 0 }),
  gas: BaseUnits,
  max_fee_per_gas: BaseUnits,
  max_priority_fee_per_gas: BaseUnits,
  value: BaseUnits,
  data: Nullable(Type.String()),
  unsigned: Type.String({ description: 'the serialized unsigned transaction (0x02…): sign, then broadcast' }),
  gas_needed: BaseUnits,
  native_balance: BaseUnits,
  gas_shortfall: BaseUnits,
  amount: BaseUnits,
  from_block: BaseUnits,
});

export const Refund = Type.Object({
  id: Id('ref'),
  object: Type.Literal('refund'),
  invoice_id: Id('inv'),
  kind: Literals(['full', 'partial', 'excess']),
  status: RefundStatus,
  asset: Type.String(),
  network: Type.String(),
  amount: Decimal,
  amount_base_units: BaseUnits,
  destination: Nullable(Type.String()),
  reason: Type.String(),
  requested_by: Type.String(),
  approved_by: Nullable(Type.String()),
  approval_reason: Nullable(Type.String()),
  unsigned_transaction: Nullable(
    Type.Union([Ref('PsbtTransaction'), Ref('Eip1559Transaction')], {
      description: 'built by POST /v1/refunds/{id}/transaction; discriminated by `format`',
    }),
  ),
  fee_estimate: Nullable(Decimal),
  txid: Nullable(Type.String()),
  fee: Nullable(Decimal),
  fee_asset: Type.String({ description: 'the asset fee_estimate and fee are in (the native coin)' }),
  created_at: DateTime,
  approved_at: Nullable(DateTime),
  completed_at: Nullable(DateTime),
});

/** POST /v1/invoices/{id}/refunds: the refund, plus the customer link token shown once. */
export const RequestedRefund = Type.Composite([
  Refund,
  Type.Object({
    customer_link_token: Nullable(
      Type.String({
        description:
          'rfl_… token for the customer refund page, shown once; null without customer_link and on an idempotent replay',
      }),
    ),
  }),
]);

/** The customer gave a destination through the refund link: only what the customer may see. */
export const RefundDestination = Type.Object({
  id: Id('ref'),
  status: Type.Literal('pending_approval'),
  destination: Type.String(),
  asset: Type.String(),
  network: Type.String(),
});
