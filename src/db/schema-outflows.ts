/**
 * Row shape of migration 0013 (EVM outflows left to the refund job), merged into `Schema` by
 * module augmentation like schema-money.ts. Amounts base-unit text, times ISO text or Date.
 */
type Amount = string;
type Time = string | Date;

export interface EvmPendingOutflowsTable {
  network: string;
  txid: string;
  /** The Transfer log's index; -1 for a native transfer (the transaction itself). */
  log_index: number;
  merchant_id: string;
  option_id: string;
  asset: string;
  from_address: string;
  to_address: string;
  amount: Amount;
  /** Native gas paid by the transaction (0 for a token transfer: gas is another asset). */
  fee: Amount;
  block_hash: string;
  block_height: number;
  seen_at: Time;
  created_at: Time;
}

declare module './schema.ts' {
  interface Schema {
    evm_pending_outflows: EvmPendingOutflowsTable;
  }
}
