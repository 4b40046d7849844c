import { TallyApiError } from "./errors.js";
import { OPERATIONS } from "./operations.js";
/**
 * The typed client. `call(operationId, …)` reaches every operation of the API (the table is
 * generated from the server's routes); the named methods below type the common ones. Non-2xx
 * answers throw TallyApiError with the server's stable `code`.
 */
export class TallyClient {
    options;
    fetch;
    constructor(options) {
        this.options = options;
        this.fetch = options.fetch ?? globalThis.fetch;
    }
    async call(operation, input = {}) {
        const op = OPERATIONS[operation];
        let path = op.path;
        if (path.includes('{id}')) {
            const id = input.params?.id;
            if (!id)
                throw new TypeError(`${operation} needs params.id`);
            path = path.replace('{id}', encodeURIComponent(id));
        }
        const url = new URL(path, this.options.baseUrl);
        for (const [k, v] of Object.entries(input.query ?? {}))
            if (v !== undefined)
                url.searchParams.set(k, String(v));
        const headers = { authorization: `Bearer ${this.options.apiKey}` };
        if (input.body !== undefined)
            headers['content-type'] = 'application/json';
        if (input.idempotencyKey)
            headers['idempotency-key'] = input.idempotencyKey;
        const res = await this.fetch(url, {
            method: op.method,
            headers,
            ...(input.body !== undefined ? { body: JSON.stringify(input.body) } : {}),
        });
        const text = await res.text();
        const json = text === '' ? null : JSON.parse(text);
        if (!res.ok) {
            const e = json?.error;
            throw new TallyApiError(res.status, e?.code ?? 'internal', e?.message ?? `HTTP ${res.status}`, e?.details);
        }
        return json;
    }
    createInvoice(body, idempotencyKey) {
        return this.call('createInvoice', { body, ...(idempotencyKey ? { idempotencyKey } : {}) });
    }
    getInvoice(id) {
        return this.call('getInvoice', { params: { id } });
    }
    /** The catch-up feed in commit order: pass the last event id you processed as `starting_after`. */
    listEvents(query = {}) {
        return this.call('listEvents', { query });
    }
    createWebhookEndpoint(body) {
        return this.call('createWebhookEndpoint', { body });
    }
    reportFulfilment(id, body = {}) {
        return this.call('reportFulfilment', { params: { id }, body });
    }
}
