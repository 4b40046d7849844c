import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { SendResult } from './attempt-outcome.ts';
import {
  type AllowList,
  ForbiddenAddressError,
  forbiddenReason,
  guardedLookup,
  urlHost,
} from './ssrf-guard.ts';
import { storableText } from './storable-text.ts';

/** The response body kept in the attempt log: enough to debug, never a megabyte per attempt. */
export const RESPONSE_BODY_LIMIT = 1024;

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export type Sender = (request: WebhookRequest) => Promise<SendResult>;

/**
 * POSTs webhooks over keep-alive connections. Every new connection goes through the SSRF guard
 * (a `lookup` that refuses forbidden addresses; IP literals are checked before connecting). The
 * timeout covers the whole exchange, headers and body: a receiver that accepts the connection and
 * then trickles bytes still frees its slot on time.
 */
export function createHttpSender(options: { allow: AllowList; timeoutMs: number; maxSockets?: number }): {
  send: Sender;
  close(): void;
} {
  // Passed per request: Node hands request options to the socket's connect, where lookup applies.
  const lookup = guardedLookup(options.allow) as unknown as LookupFunction;
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };

  const send: Sender = (request) =>
    new Promise<SendResult>((resolve) => {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        return resolve({ kind: 'network_error', error: 'invalid URL', latencyMs: 0 });
      }
      const host = urlHost(url);
      if (isIP(host)) {
        const reason = forbiddenReason(host, options.allow);
        if (reason) return resolve({ kind: 'refused', error: reason, latencyMs: 0 });
      }
      const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
      const lib = url.protocol === 'https:' ? https : http;
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = lib.request(
        url,
        {
          method: 'POST',
          agent,
          lookup,
          headers: {
            ...request.headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(request.body),
            'user-agent': 'Tally-Webhooks/1',
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          res.on('data', (chunk: Buffer) => {
            if (kept < RESPONSE_BODY_LIMIT) {
              chunks.push(chunk);
              kept += chunk.length;
            }
          });
          res.on('end', () =>
            finish({
              kind: 'response',
              status: res.statusCode ?? 0,
              // The receiver's bytes go into the attempt log: no NUL, no half of a surrogate pair.
              body: storableText(Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_BODY_LIMIT)),
              retryAfter: headerValue(res.headers['retry-after']),
              latencyMs: elapsed(),
            }),
          );
          res.on('error', (err) =>
            finish({ kind: 'network_error', error: storableText(err.message), latencyMs: elapsed() }),
          );
        },
      );
      const timer = setTimeout(() => {
        finish({
          kind: 'timeout',
          error: `no complete answer within ${options.timeoutMs} ms`,
          latencyMs: elapsed(),
        });
        req.destroy();
      }, options.timeoutMs);
      req.on('error', (err) =>
        finish(
          err instanceof ForbiddenAddressError
            ? { kind: 'refused', error: storableText(err.message), latencyMs: elapsed() }
            : { kind: 'network_error', error: storableText(err.message), latencyMs: elapsed() },
        ),
      );
      req.end(request.body);
    });

  return {
    send,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

function headerValue(v: string | string[] | undefined): string | null {
  if (v === undefined) return null;
  return Array.isArray(v) ? (v[0] ?? null) : v;
}
