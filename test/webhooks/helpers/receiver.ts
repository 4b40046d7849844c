import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  timestamp: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The payload as the official library verified it, or null if no secret was given / it failed. */
  verified: Record<string, unknown> | null;
  verifyError: string | null;
}

type Answer = { status: number; body?: string; headers?: Record<string, string>; delayMs?: number };

/**
 * A real HTTP receiver on 127.0.0.1 that verifies every request with the official
 * `standardwebhooks` library (when given the endpoint secret) and answers as the test scripts it.
 */
export class TestReceiver {
  readonly received: Received[] = [];
  secret: string | null = null;
  /**
   * The library checks webhook-timestamp against Date.now() (±5 min). Tests that drive the gateway
   * with a ManualClock hand it here, so the receiver's "now" is the gateway's, as in production.
   */
  clock: { now(): Date } | null = null;
  answer: (r: Received) => Answer = () => ({ status: 200 });
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = req.headers;
        let verified: Record<string, unknown> | null = null;
        let verifyError: string | null = null;
        if (this.secret) {
          const realNow = Date.now;
          const clock = this.clock;
          if (clock) Date.now = () => clock.now().getTime();
          try {
            verified = new Webhook(this.secret).verify(body, {
              'webhook-id': String(headers['webhook-id']),
              'webhook-timestamp': String(headers['webhook-timestamp']),
              'webhook-signature': String(headers['webhook-signature']),
            }) as Record<string, unknown>;
          } catch (error) {
            verifyError = (error as Error).message;
          } finally {
            Date.now = realNow;
          }
        }
        const r: Received = {
          id: String(headers['webhook-id']),
          timestamp: Number(headers['webhook-timestamp']),
          headers,
          body,
          verified,
          verifyError,
        };
        this.received.push(r);
        const a = this.answer(r);
        const send = () => {
          res.writeHead(a.status, { 'content-type': 'text/plain', ...(a.headers ?? {}) });
          res.end(a.body ?? 'ok');
        };
        if (a.delayMs) setTimeout(send, a.delayMs);
        else send();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  ids(): string[] {
    return this.received.map((r) => r.id);
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
    this.server = null;
  }
}
