import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { TallyError } from '../../../src/core/errors.ts';

/**
 * A real HTTP server on 127.0.0.1 (random port) standing in for an exchange API: the provider's
 * fetch, timeout and parsing run for real; only the far end is ours.
 */

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface LocalServer {
  baseUrl: string;
  /** Paths (with query) requested so far, in order. */
  requests: string[];
  /** Replaces how the next requests are answered. */
  respond(handler: Handler): void;
  close(): Promise<void>;
}

export async function startLocalServer(initial: Handler = replyJson(404, '{}')): Promise<LocalServer> {
  let handler = initial;
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    respond(next) {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function replyJson(status: number, body: string): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(body);
  };
}

/** Never answers: the socket stays open until the server closes, like a hung upstream. */
export const neverAnswer: Handler = () => {};

export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
}

/** Awaits a rejection and checks it is rate_unavailable with a message matching `pattern`. */
export async function expectRateUnavailable(promise: Promise<unknown>, pattern: RegExp): Promise<TallyError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection, got a quote');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TallyError);
  const tally = error as TallyError;
  expect(tally.code).toBe('rate_unavailable');
  expect(tally.message).toMatch(pattern);
  return tally;
}

/**
 * One local server for the calling test file: started before its tests, its request log cleared
 * before each, closed after. Returns a getter because the server exists only once beforeAll ran.
 */
export function useLocalServer(): () => LocalServer {
  let server: LocalServer | undefined;
  beforeAll(async () => {
    server = await startLocalServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => {
    if (server) server.requests.length = 0;
  });
  return () => {
    if (!server) throw new Error('local server not started');
    return server;
  };
}
