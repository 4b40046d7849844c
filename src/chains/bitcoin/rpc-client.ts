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
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: this.auth },
        body: JSON.stringify({ jsonrpc: '1.0', id: this.id, method, params }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new NodeUnavailableError(method, error instanceof Error ? error.message : String(error));
    }
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
}
