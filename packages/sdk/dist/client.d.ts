import { type OperationId } from './operations.ts';
import type { CreateInvoiceInput, Invoice, List, TallyEvent, WebhookEndpoint } from './types.ts';
export interface ClientOptions {
    /** e.g. "http://127.0.0.1:4000" */
    baseUrl: string;
    /** A `tally_sk_…` API key. */
    apiKey: string;
    fetch?: typeof fetch;
}
export interface CallInput {
    params?: {
        id?: string;
    };
    query?: Record<string, string | number | undefined>;
    body?: unknown;
    /** Sent as Idempotency-Key: a retried creation returns the first result instead of a duplicate. */
    idempotencyKey?: string;
}
/**
 * The typed client. `call(operationId, …)` reaches every operation of the API (the table is
 * generated from the server's routes); the named methods below type the common ones. Non-2xx
 * answers throw TallyApiError with the server's stable `code`.
 */
export declare class TallyClient {
    private readonly options;
    private readonly fetch;
    constructor(options: ClientOptions);
    call<T = unknown>(operation: OperationId, input?: CallInput): Promise<T>;
    createInvoice(body: CreateInvoiceInput, idempotencyKey?: string): Promise<Invoice>;
    getInvoice(id: string): Promise<Invoice>;
    /** The catch-up feed in commit order: pass the last event id you processed as `starting_after`. */
    listEvents(query?: {
        starting_after?: string;
        type?: string;
        invoice_id?: string;
        limit?: number;
    }): Promise<List<TallyEvent>>;
    createWebhookEndpoint(body: {
        url: string;
        events?: string[];
        description?: string;
    }): Promise<WebhookEndpoint>;
    reportFulfilment(id: string, body?: {
        reference?: string;
        note?: string;
    }): Promise<Invoice>;
}
