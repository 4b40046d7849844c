import { TallyApiError } from './errors.ts';
import { OPERATIONS, type OperationId } from './operations.ts';
import type { CreateInvoiceInput, Invoice, List, TallyEvent, WebhookEndpoint } from './types.ts';

export interface ClientOptions {
  /** e.g. "http://127.0.0.1:4000" */
  baseUrl: string;
  /** A `tally_sk_…` API key. */
  apiKey: string;
  fetch?: typeof fetch;
}

export interface CallInput {
  params?: { id?: string };
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
export class TallyClient {
  private readonly fetch: typeof fetch;
  constructor(private readonly options: ClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async call<T = unknown>(operation: OperationId, input: CallInput = {}): Promise<T> {
    const op = OPERATIONS[operation];
    let path: string = op.path;
    if (path.includes('{id}')) {
      const id = input.params?.id;
      if (!id) throw new TypeError(`${operation} needs params.id`);
      path = path.replace('{id}', encodeURIComponent(id));
    }
    const url = new URL(path, this.options.baseUrl);
    for (const [k, v] of Object.entries(input.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.apiKey}` };
    if (input.body !== undefined) headers['content-type'] = 'application/json';
    if (input.idempotencyKey) headers['idempotency-key'] = input.idempotencyKey;
    const res = await this.fetch(url, {
      method: op.method,
      headers,
      ...(input.body !== undefined ? { body: JSON.stringify(input.body) } : {}),
    });
    const text = await res.text();
    const json = text === '' ? null : (JSON.parse(text) as unknown);
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
      throw new TallyApiError(
        res.status,
        e?.code ?? 'internal',
        e?.message ?? `HTTP ${res.status}`,
        e?.details,
      );
    }
    return json as T;
  }

  createInvoice(body: CreateInvoiceInput, idempotencyKey?: string): Promise<Invoice> {
    return this.call('createInvoice', { body, ...(idempotencyKey ? { idempotencyKey } : {}) });
  }

  getInvoice(id: string): Promise<Invoice> {
    return this.call('getInvoice', { params: { id } });
  }

  /** The catch-up feed in commit order: pass the last event id you processed as `starting_after`. */
  listEvents(query: { starting_after?: string; type?: string; invoice_id?: string; limit?: number } = {}) {
    return this.call<List<TallyEvent>>('listEvents', { query });
  }

  createWebhookEndpoint(body: {
    url: string;
    events?: string[];
    description?: string;
  }): Promise<WebhookEndpoint> {
    return this.call('createWebhookEndpoint', { body });
  }

  reportFulfilment(id: string, body: { reference?: string; note?: string } = {}): Promise<Invoice> {
    return this.call('reportFulfilment', { params: { id }, body });
  }
}
