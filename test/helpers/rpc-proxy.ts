import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';

interface RpcRequest {
  id: number;
  method: string;
  params: unknown[];
}

/**
 * A JSON-RPC proxy in front of a real node, for the resilience tests: it can fail requests, or
 * answer single calls itself (a provider's range refusal, a lagging node), and counts what passes.
 */
export interface RpcProxy {
  url: string;
  /** HTTP requests received. */
  requests: number;
  /** Answer every request with this HTTP status instead of forwarding (null: forward). */
  failWith: number | null;
  /** Fail this many more requests with 503, then forward. */
  failNext: number;
  /** A call's own answer instead of the node's: a JSON-RPC result or error object, or undefined to forward. */
  intercept:
    | ((call: RpcRequest) => { result: unknown } | { error: { code: number; message: string } } | undefined)
    | null;
  close(): Promise<void>;
}

const body = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
};

export async function startRpcProxy(target: string): Promise<RpcProxy> {
  const proxy: RpcProxy = {
    url: '',
    requests: 0,
    failWith: null,
    failNext: 0,
    intercept: null,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server: Server = createServer(async (req, res) => {
    proxy.requests += 1;
    const text = await body(req);
    if (proxy.failWith !== null || proxy.failNext > 0) {
      proxy.failNext = Math.max(0, proxy.failNext - 1);
      res.writeHead(proxy.failWith ?? 503).end('unavailable');
      return;
    }
    const parsed = JSON.parse(text) as RpcRequest | RpcRequest[];
    const calls = Array.isArray(parsed) ? parsed : [parsed];
    const own = calls.map((c) => proxy.intercept?.(c));
    const forward = calls.filter((_, i) => own[i] === undefined);
    let answers: Array<{ id: number }> = [];
    if (forward.length > 0) {
      const upstream = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(forward),
      });
      answers = (await upstream.json()) as Array<{ id: number }>;
    }
    const out = calls.map((c, i) => {
      const mine = own[i];
      if (mine !== undefined) return { jsonrpc: '2.0', id: c.id, ...mine };
      return answers.find((a) => a.id === c.id);
    });
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(Array.isArray(parsed) ? out : out[0]));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  proxy.url = `http://127.0.0.1:${address.port}`;
  return proxy;
}

/** A URL nothing listens on (a dead provider). */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}
