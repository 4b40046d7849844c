import { Type } from '@sinclair/typebox';
import { REPORT_COLUMNS } from '../../settlement/report.ts';
import {
  BaseUnits,
  DateTime,
  Decimal,
  Id,
  Ref,
  SignedBaseUnits,
  SignedDecimal,
  StringMap,
} from './common.ts';

/** Ledger (src/ledger), settlement report (src/settlement/report*.ts) and the dev-mode payment. */

export const LedgerBalance = Type.Object({
  account: Type.String({ description: 'e.g. assets:invoice_addresses, clearing:refunds_in_transit' }),
  asset: Type.String(),
  network: Type.String(),
  balance: SignedDecimal,
  balance_base_units: SignedBaseUnits,
});

export const LedgerBalances = Type.Object({
  object: Type.Literal('list'),
  merchant_id: Id('mer'),
  data: Type.Array(Ref('LedgerBalance')),
});

/** src/ledger/verify.ts LedgerVerifyReport: `ok` with every list empty when the books balance. */
export const LedgerVerification = Type.Object({
  merchant_id: Id('mer'),
  ok: Type.Boolean(),
  transactions_checked: Type.Integer({ minimum: 0 }),
  unbalanced: Type.Array(
    Type.Object({
      transaction_id: Type.String(),
      asset: Type.String(),
      network: Type.String(),
      debits: SignedBaseUnits,
      credits: SignedBaseUnits,
    }),
  ),
  invoices_checked: Type.Integer({ minimum: 0 }),
  mismatched: Type.Array(
    Type.Object({
      invoice_id: Id('inv'),
      differences: StringMap(Type.Object({ booked: SignedBaseUnits, expected: SignedBaseUnits }), {
        description: 'bucket (account/asset/network) → booked vs expected base units',
      }),
    }),
  ),
  movements_unbooked: Type.Array(Type.String()),
});

/**
 * One report row: the CSV's columns under the same names, every one a string, empty where the row's
 * type (payment, movement, refund) has no such value.
 */
const ReportRow = Type.Object(Object.fromEntries(REPORT_COLUMNS.map((c) => [c, Type.String()])));

export const SettlementReport = Type.Object({
  object: Type.Literal('settlement_report'),
  merchant_id: Id('mer'),
  from: DateTime,
  to: DateTime,
  rows: Type.Array(ReportRow),
  totals: Type.Object({
    crypto: StringMap(
      Type.Object({
        received: BaseUnits,
        credited: BaseUnits,
        uncredited: BaseUnits,
        refunded: BaseUnits,
        swept: BaseUnits,
        fees: BaseUnits,
        spent: BaseUnits,
      }),
      { description: 'per "asset/network", base units' },
    ),
    fiat: StringMap(Decimal, { description: 'per currency: credited payments at their locked rates' }),
    fees_fiat: StringMap(Decimal, { description: 'per currency: movement fees at the locked rates' }),
    payments: Type.Integer({ minimum: 0 }),
    movements: Type.Integer({ minimum: 0 }),
    refunds: Type.Integer({ minimum: 0 }),
  }),
});

/** Dev mode only: the test customer's payment, sent on the local devnet (src/dev/pay-invoice.ts). */
export const DevPayment = Type.Object({
  invoice_id: Id('inv'),
  option_id: Id('opt'),
  network: Type.String(),
  asset: Type.String(),
  amount: Decimal,
  amount_base_units: BaseUnits,
  txid: Type.String(),
  from: Type.String({ description: "the devnet test customer's address" }),
});
