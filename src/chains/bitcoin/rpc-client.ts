import { TallyError } from '../../core/errors.ts';

export interface BitcoinRpcOptions {
  /** e.g. http://127.0.0.1:18443 (btcd with --notls on loopback, or Bitcoin Core). */
  url: string;
  user: string;
  password: string;
  timeoutMs?: number;
}

/** A node that failed to answer. Callers fail closed: no fact is produced from a failed call. */
export class NodeUnavailableError extends TallyError {
  constructor(
    readonly method: string,
    reason: string,
  ) {
    super('service_unavailable', `Bitcoin node: ${method} failed: ${reason}`);
  }
}

/**
 * Minimal JSON-RPC 1.0 client for btcd and Bitcoin Core. It reports what the node says and
 * nothing more; any transport error, HTTP error, RPC error or malformed answer becomes a
 * NodeUnavailableError (or the node's own error message for RPC errors).
 */
export class BitcoinRpc {
  private id = 0;
  private readonly auth: string;

  constructor(private readonly options: BitcoinRpcOptions) {
    this.auth = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
  }

  async call<T>(method: string, params: unknown[] = []): Promise<T> {
    this.id += 1;
    const response = await this.post(method, { jsonrpc: '1.0', id: this.id, method, params });
    const text = await response.text();
    let body: { result?: T; error?: { code: number; message: string } | null };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new NodeUnavailableError(method, `HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (body.error)
      throw new NodeUnavailableError(method, `RPC error ${body.error.code}: ${body.error.message}`);
    if (!response.ok) throw new NodeUnavailableError(method, `HTTP ${response.status}`);
    if (body.result === undefined) throw new NodeUnavailableError(method, 'answer has no result');
    return body.result;
  }

  /**
   * Several calls of one method in one HTTP request (JSON-RPC batch; btcd and Core both accept
   * it): reading a large mempool one transaction per request would take minutes. Each answer is
   * the result or the node's error for that item; a transport failure fails the whole batch.
   */
  async batch<T>(method: string, paramsList: unknown[][]): Promise<Array<{ result: T } | { error: string }>> {
    if (paramsList.length === 0) return [];
    const first = this.id + 1;
    const body = paramsList.map((params) => ({ jsonrpc: '1.0', id: ++this.id, method, params }));
    const response = await this.post(method, body);
    const text = await response.text();
    let answers: Array<{ id: number; result?: T; error?: { code: number; message: string } | null }>;
    try {
      answers = JSON.parse(text) as typeof answers;
    } catch {
      throw new NodeUnavailableError(method, `HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (!Array.isArray(answers)) throw new NodeUnavailableError(method, 'batch answer is not an array');
    const byId = new Map(answers.map((a) => [a.id, a]));
    return paramsList.map((_, i) => {
      const answer = byId.get(first + i);
      if (!answer) throw new NodeUnavailableError(method, `batch answer lacks item ${i}`);
      if (answer.error) return { error: `RPC error ${answer.error.code}: ${answer.error.message}` };
      if (answer.result === undefined) throw new NodeUnavailableError(method, 'answer has no result');
      return { result: answer.result };
    });
  }

  private async post(method: string, body: unknown): Promise<Response> {
    try {
      return await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: this.auth },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new NodeUnavailableError(method, error instanceof Error ? error.message : String(error));
    }
  }
}
