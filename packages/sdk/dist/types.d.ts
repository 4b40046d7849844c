/** Wire types. Amounts are decimal strings; never parse them into JS numbers. */
export type InvoiceStatus = 'created' | 'awaiting_payment' | 'detected' | 'confirming' | 'paid' | 'underpaid' | 'overpaid' | 'expired' | 'late_paid' | 'failed' | 'cancelled' | 'refunded' | 'partially_refunded';
export interface PaymentOption {
    id: string;
    asset: string;
    network: string;
    address: string;
    payment_uri: string | null;
    amount_due: string;
    amount_due_base_units: string;
    decimals: number;
    required_confirmations: number;
}
export interface Invoice {
    id: string;
    object: 'invoice';
    status: InvoiceStatus;
    customer_status: string;
    /** Per-invoice event sequence: a snapshot with a lower number is older. */
    sequence: number;
    merchant_order_id: string | null;
    price: {
        amount: string;
        currency: string;
    };
    metadata: Record<string, string>;
    expires_at: string;
    payment_options: PaymentOption[];
    amount_paid: string;
    amount_pending: string;
    shortfall: string;
    payments: Array<Record<string, unknown>>;
    fulfilment: {
        fulfilled_at: string;
        reference: string | null;
        note: string | null;
    } | null;
    [field: string]: unknown;
}
export interface CreateInvoiceInput {
    price: {
        amount: string;
        currency: string;
    };
    payment_options?: Array<{
        asset: string;
        network: string;
    }>;
    merchant_order_id?: string;
    customer_id?: string;
    description?: string;
    metadata?: Record<string, string>;
    expires_in_seconds?: number;
    success_url?: string;
    cancel_url?: string;
    policy?: Record<string, unknown>;
}
/** The webhook body and the /v1/events item: `{id, type, created, data}`. */
export interface TallyEvent {
    id: string;
    type: string;
    created: string;
    data: {
        invoice?: Invoice;
        payment?: Record<string, unknown>;
        /** `exception.*` events: the GET /v1/exceptions/{id} object. */
        exception?: Record<string, unknown> | null;
        /** `refund.completed` / `refund.reverted`: the GET /v1/refunds/{id} object — which refund. */
        refund?: Record<string, unknown>;
        transition?: {
            from: string;
            to: string;
            cause: string;
            reason: string | null;
        };
        [field: string]: unknown;
    };
}
export interface List<T> {
    object: 'list';
    data: T[];
    has_more: boolean;
    next_cursor: string | null;
}
export interface WebhookEndpoint {
    id: string;
    object: 'webhook_endpoint';
    url: string;
    description: string | null;
    events: string[];
    enabled: boolean;
    disabled_reason: string | null;
    /** Only in the answers to creation and rotation: store it, it is not shown again. */
    secret?: string | null;
}
