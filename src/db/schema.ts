/**
 * Row shapes as stored. Portable across SQLite and PostgreSQL: amounts are base-unit text
 * (NUMERIC(78,0) in PostgreSQL, read back as strings), times are ISO-8601 text on write
 * (timestamptz in PostgreSQL, read back as Date), flags are 0/1 integers, JSON is text.
 */
type Amount = string;
type Time = string | Date;
type Flag = number;
/** bigint columns: PostgreSQL's driver returns them as strings, SQLite as numbers. */
type BigIntColumn = number | string;

export interface MerchantsTable {
  id: string;
  name: string;
  policy: string;
  created_at: Time;
}
export interface ApiKeysTable {
  id: string;
  merchant_id: string;
  name: string;
  secret_hash: string;
  scopes: string;
  created_at: Time;
  revoked_at: Time | null;
}
export interface UsersTable {
  id: string;
  merchant_id: string;
  email: string;
  role: string;
  created_at: Time;
}
export interface WalletsTable {
  id: string;
  merchant_id: string;
  family: string;
  scope: string;
  xpub: string;
  key_fingerprint: string | null;
  script_type: string;
  label: string | null;
  next_index: number;
  pool_target: number;
  created_at: Time;
  /** Set when wallet.gap_warning was emitted for the current crossing; cleared below the threshold. */
  gap_warned_at: Time | null;
  /** Bitcoin key origin (migration 0012): the signer's master fingerprint, 8 lowercase hex digits. */
  master_fingerprint: string | null;
  /** The account key's path from that master, `m/84'/0'/0'`. */
  account_path: string | null;
}
export interface WalletAddressesTable {
  wallet_id: string;
  derivation_index: number;
  address: string;
  option_id: string | null;
  allocated_at: Time | null;
}
export interface InvoicesTable {
  id: string;
  merchant_id: string;
  status: string;
  merchant_order_id: string | null;
  customer_id: string | null;
  description: string | null;
  price_amount: Amount;
  price_currency: string;
  metadata: string;
  success_url: string | null;
  cancel_url: string | null;
  expires_at: Time;
  policy: string;
  selected_option_id: string | null;
  refunded_amount: Amount;
  manually_paid: Flag;
  sequence: number;
  version: number;
  fulfilled_at: Time | null;
  fulfilment: string | null;
  created_at: Time;
  updated_at: Time;
  /** The invoice's next clock fact (`expiry_due`, `window_closed`) and when it is due; null once both ran. */
  clock_fact: string | null;
  clock_at: Time | null;
}
export interface PaymentOptionsTable {
  id: string;
  invoice_id: string;
  merchant_id: string;
  position: number;
  asset: string;
  network: string;
  address: string;
  wallet_id: string;
  derivation_index: number;
  amount_due: Amount;
  decimals: number;
  required_confirmations: number;
  zero_conf_allowed: Flag;
  confirmation_reason: string;
  rate_value: string | null;
  rate_source: string | null;
  rate_fetched_at: Time | null;
}
export interface PaymentsTable {
  id: string;
  invoice_id: string;
  option_id: string;
  merchant_id: string;
  network: string;
  asset: string;
  txid: string;
  output_index: number;
  amount: Amount;
  confirmations: number;
  block_hash: string | null;
  block_height: number | null;
  rbf: Flag;
  seen_at: Time;
  timing: string;
  credited: Flag;
  removed: Flag;
  removed_reason: string | null;
  updated_at: Time;
}
export interface TransitionsTable {
  id: string;
  invoice_id: string;
  merchant_id: string;
  from_status: string;
  to_status: string;
  cause_id: string;
  cause_kind: string;
  actor_kind: string | null;
  actor_id: string | null;
  reason: string | null;
  created_at: Time;
}
export interface AppliedFactsTable {
  invoice_id: string;
  fact_id: string;
  created_at: Time;
}
export interface EventsTable {
  id: string;
  merchant_id: string;
  invoice_id: string | null;
  type: string;
  sequence: number;
  payload: string;
  created_at: Time;
  /** Commit-ordered outbox position, set after commit by the sequencer; null until then. */
  position: BigIntColumn | null;
}
export interface ExceptionsTable {
  id: string;
  merchant_id: string;
  invoice_id: string;
  payment_id: string | null;
  kind: string;
  evidence: string;
  status: string;
  resolution: string | null;
  resolved_by: string | null;
  resolved_reason: string | null;
  created_at: Time;
  resolved_at: Time | null;
}
export interface JobsTable {
  id: string;
  kind: string;
  dedupe_key: string;
  payload: string;
  run_at: Time;
  status: string;
  attempts: number;
  locked_by: string | null;
  locked_until: Time | null;
  last_error: string | null;
  created_at: Time;
  updated_at: Time;
}
export interface IdempotencyKeysTable {
  merchant_id: string;
  key: string;
  request_hash: string;
  response_status: number;
  response_body: string;
  created_at: Time;
}
export interface ChainBlocksTable {
  network: string;
  height: number;
  hash: string;
  prev_hash: string;
  processed_at: Time;
}
export interface ChainWatchedTxsTable {
  network: string;
  txid: string;
  /** JSON array of spent outpoints, "txid:vout". */
  inputs: string;
  block_hash: string | null;
  block_height: number | null;
  first_seen_at: Time;
  missing_since: Time | null;
}

export interface OutboxCountersTable {
  name: string;
  value: BigIntColumn;
}
export interface WebhookEndpointsTable {
  id: string;
  merchant_id: string;
  url: string;
  description: string | null;
  /** JSON array of event types, or ["*"]. */
  event_types: string;
  enabled: Flag;
  disabled_reason: string | null;
  disabled_at: Time | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Time | null;
  failing_since: Time | null;
  created_at: Time;
  updated_at: Time;
}
export interface WebhookDeliveriesTable {
  id: string;
  merchant_id: string;
  endpoint_id: string;
  event_id: string;
  /** pending | succeeded | failed | cancelled */
  status: string;
  attempts: number;
  next_attempt_at: Time;
  locked_by: string | null;
  locked_until: Time | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: Time | null;
  created_at: Time;
  updated_at: Time;
}
export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  merchant_id: string;
  endpoint_id: string;
  event_id: string;
  attempt: number;
  started_at: Time;
  webhook_timestamp: BigIntColumn;
  outcome: string;
  status_code: number | null;
  latency_ms: number;
  response_body: string | null;
  error: string | null;
}

/** Dashboard and audit tables (migration 0008). */
export interface UserCredentialsTable {
  user_id: string;
  /** scrypt$N$r$p$salt$hash (src/auth/passwords.ts). */
  password_hash: string;
  updated_at: Time;
}
export interface UserSessionsTable {
  /** SHA-256 (hex) of the cookie secret. */
  id: string;
  user_id: string;
  merchant_id: string;
  csrf_token: string;
  created_at: Time;
  last_seen_at: Time;
  expires_at: Time;
  revoked_at: Time | null;
}
export interface LoginAttemptsTable {
  id: string;
  email: string;
  ip: string;
  succeeded: Flag;
  created_at: Time;
}
export interface InvoiceNotesTable {
  id: string;
  merchant_id: string;
  invoice_id: string;
  /** review | evidence | escalation | top_up_request | overpayment_approval | link_shared */
  kind: string;
  body: string;
  exception_id: string | null;
  user_id: string;
  created_at: Time;
}
export interface AuditLogTable {
  seq: BigIntColumn;
  merchant_id: string | null;
  actor_kind: string;
  actor_id: string;
  actor_label: string;
  action: string;
  target_kind: string | null;
  target_id: string | null;
  reason: string | null;
  details: string;
  /** ISO-8601 text on both databases: the hash covers this exact string. */
  created_at: string;
  prev_hash: string;
  hash: string;
}
export interface AuditChainHeadTable {
  name: string;
  seq: BigIntColumn;
  hash: string;
}

export interface Schema {
  merchants: MerchantsTable;
  api_keys: ApiKeysTable;
  users: UsersTable;
  wallets: WalletsTable;
  wallet_addresses: WalletAddressesTable;
  invoices: InvoicesTable;
  payment_options: PaymentOptionsTable;
  payments: PaymentsTable;
  transitions: TransitionsTable;
  applied_facts: AppliedFactsTable;
  events: EventsTable;
  exceptions: ExceptionsTable;
  jobs: JobsTable;
  idempotency_keys: IdempotencyKeysTable;
  chain_blocks: ChainBlocksTable;
  chain_watched_txs: ChainWatchedTxsTable;
  outbox_counters: OutboxCountersTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  user_credentials: UserCredentialsTable;
  user_sessions: UserSessionsTable;
  login_attempts: LoginAttemptsTable;
  invoice_notes: InvoiceNotesTable;
  audit_log: AuditLogTable;
  audit_chain_head: AuditChainHeadTable;
}
