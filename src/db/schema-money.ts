/**
 * Row shapes of migration 0009 (ledger, refunds, settlement, reconciliation), merged into
 * `Schema` by module augmentation so the shared schema.ts needs no edit while others change it.
 * Same portable encodings as schema.ts: amounts base-unit text, times ISO text or Date.
 */
type Amount = string;
type Time = string | Date;

export interface LedgerTransactionsTable {
  id: string;
  merchant_id: string;
  invoice_id: string | null;
  movement_id: string | null;
  /** invoice: the invoice's position caught up with its records; movement: money left an invoice address. */
  kind: string;
  /** The fact id or txid that caused the booking. */
  cause: string;
  created_at: Time;
}
export interface LedgerEntriesTable {
  id: string;
  transaction_id: string;
  merchant_id: string;
  invoice_id: string | null;
  account: string;
  asset: string;
  network: string;
  direction: 'debit' | 'credit';
  amount: Amount;
  fiat_currency: string | null;
  /** Decimal string in fiat_currency at the option's locked rate; informational, never summed for balance. */
  fiat_value: string | null;
  created_at: Time;
}
export interface RefundsTable {
  id: string;
  merchant_id: string;
  invoice_id: string;
  option_id: string;
  /** full | partial | excess */
  kind: string;
  amount: Amount;
  asset: string;
  network: string;
  destination: string | null;
  /** awaiting_destination | requested | approved | completed | cancelled */
  status: string;
  reason: string;
  requested_by: string;
  approved_by: string | null;
  approval_reason: string | null;
  link_token_hash: string | null;
  /** JSON: the last unsigned transaction built (PSBT base64 or EIP-1559 serialized) and its inputs. */
  unsigned_tx: string | null;
  fee_estimate: Amount | null;
  send_amount: Amount | null;
  txid: string | null;
  fee: Amount | null;
  created_at: Time;
  approved_at: Time | null;
  completed_at: Time | null;
  updated_at: Time;
}
export interface SettlementMovementsTable {
  id: string;
  merchant_id: string;
  network: string;
  asset: string;
  txid: string;
  /** -1: the transaction itself (Bitcoin, EVM native coin); otherwise the ERC-20 Transfer log's index (migration 0011). */
  log_index: number;
  block_hash: string | null;
  block_height: number | null;
  inputs_value: Amount;
  refunded: Amount;
  swept: Amount;
  fee: Amount;
  /** JSON array of {address|script, amount, kind: refund|merchant}. */
  outputs: string;
  refund_id: string | null;
  batch_id: string | null;
  seen_at: Time;
  /** 1 once its block left the best chain and its booking was reversed (migration 0011). */
  removed: number;
  removed_at: Time | null;
}
export interface SettlementMovementInputsTable {
  movement_id: string;
  outpoint: string;
  invoice_id: string;
  payment_id: string;
  amount: Amount;
}
export interface SettlementBatchesTable {
  id: string;
  merchant_id: string;
  cutoff_at: Time;
  movements: number;
  /** JSON: per asset/network {swept, refunded, fees, inputs} as base-unit strings. */
  totals: string;
  created_at: Time;
}
export interface ReconciliationRunsTable {
  id: string;
  network: string;
  from_height: number | null;
  to_height: number | null;
  mismatches: number;
  report: string;
  started_at: Time;
  finished_at: Time;
}

declare module './schema.ts' {
  interface Schema {
    ledger_transactions: LedgerTransactionsTable;
    ledger_entries: LedgerEntriesTable;
    refunds: RefundsTable;
    settlement_movements: SettlementMovementsTable;
    settlement_movement_inputs: SettlementMovementInputsTable;
    settlement_batches: SettlementBatchesTable;
    reconciliation_runs: ReconciliationRunsTable;
  }
}
