/**
 * JSON-RPC over HTTP to EVM nodes, with the resilience a watcher needs from public or paid RPC
 * providers: several URLs (the first healthy one is used; on failure the next), retries with
 * exponential backoff and jitter, a timeout per request, and batching (one HTTP request carries
 * many calls). Any failure that survives the retries is thrown: the watcher then applies nothing
 * (fail closed). A JSON-RPC error answer (the node understood and refused) is not retried on
 * another URL, except for the codes providers use for rate limits and overload.
 */
export interface EvmRpcOptions {
  urls: readonly string[];
  /** Per HTTP request. */
  timeoutMs?: number;
  /** Rounds over all URLs before giving up. */
  attempts?: number;
  /** First backoff between rounds; doubled each round, with up to 50 % jitter. */
  backoffMs?: number;
  /** Calls per HTTP request when batching (providers cap this, often at 100 or less). */
  maxBatch?: number;
  fetch?: typeof fetch;
}

export interface RpcCall {
  method: string;
  params: unknown[];
}

/** The node answered with a JSON-RPC error. */
export class RpcResponseError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly method: string,
  ) {
    super(`${method}: ${message} (code ${code})`);
  }
}

/** No URL answered usably within the attempts. */
export class RpcUnavailableError extends Error {}

// -32005 limit exceeded (Infura and others), -32029 / 429-style rate limits, -32603 internal error.
const TRANSIENT_CODES = new Set([-32005, -32029, -32603, 429]);

interface RpcReply {
  id: number;
  result?: unknown;
  error?: { code: number; message: string };
}

export class EvmRpc {
  private preferred = 0;
  private nextId = 1;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  readonly maxBatch: number;
  private readonly fetchFn: typeof fetch;
  /** HTTP requests sent, for the benchmark and metrics. */
  requests = 0;

  constructor(private readonly options: EvmRpcOptions) {
    if (options.urls.length === 0) throw new Error('at least one RPC URL is required');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.attempts = options.attempts ?? 3;
    this.backoffMs = options.backoffMs ?? 200;
    this.maxBatch = options.maxBatch ?? 50;
    this.fetchFn = options.fetch ?? fetch;
  }

  get urls(): readonly string[] {
    return this.options.urls;
  }

  async call<T>(method: string, params: unknown[] = []): Promise<T> {
    const [result] = await this.batch<T>([{ method, params }]);
    return result as T;
  }

  /** Several calls, results in order; sent in HTTP requests of at most `maxBatch` calls. */
  async batch<T = unknown>(calls: readonly RpcCall[]): Promise<T[]> {
    const results: T[] = [];
    for (let i = 0; i < calls.length; i += this.maxBatch) {
      results.push(...(await this.sendWithRetry<T>(calls.slice(i, i + this.maxBatch))));
    }
    return results;
  }

  private async sendWithRetry<T>(calls: readonly RpcCall[]): Promise<T[]> {
    const failures: string[] = [];
    for (let round = 0; round < this.attempts; round++) {
      if (round > 0) await sleep(this.backoffMs * 2 ** (round - 1) * (1 + Math.random() / 2));
      for (let k = 0; k < this.options.urls.length; k++) {
        const index = (this.preferred + k) % this.options.urls.length;
        const url = this.options.urls[index] as string;
        try {
          const results = await this.send<T>(url, calls);
          this.preferred = index;
          return results;
        } catch (error) {
          if (error instanceof RpcResponseError && !TRANSIENT_CODES.has(error.code)) throw error;
          failures.push(`${redactUrl(url)}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
    throw new RpcUnavailableError(
      `no RPC URL answered ${calls[0]?.method}${calls.length > 1 ? ` (+${calls.length - 1})` : ''}: ${failures.slice(-3).join('; ')}`,
    );
  }

  private async send<T>(url: string, calls: readonly RpcCall[]): Promise<T[]> {
    const ids = calls.map(() => this.nextId++);
    const body = calls.map((c, i) => ({ jsonrpc: '2.0', id: ids[i], method: c.method, params: c.params }));
    this.requests += 1;
    const response = await this.fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(calls.length === 1 ? body[0] : body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const parsed = (await response.json()) as RpcReply | RpcReply[];
    const replies = Array.isArray(parsed) ? parsed : [parsed];
    const byId = new Map(replies.map((r) => [r.id, r]));
    return calls.map((c, i) => {
      const reply = byId.get(ids[i] as number);
      if (!reply) throw new Error(`no answer to ${c.method} in the batch`);
      if (reply.error) throw new RpcResponseError(reply.error.code, reply.error.message, c.method);
      return reply.result as T;
    });
  }
}

/** Provider URLs often carry an API key in the path or query: never log it. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.length > 1 ? '/…' : ''}`;
  } catch {
    return 'invalid-url';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
