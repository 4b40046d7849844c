import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Every web response carries these. The CSP allows only our own stylesheet and script: no inline
 * script, no third-party origin, no framing (a checkout page in a hostile frame is a clickjacking
 * target).
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function acceptsGzip(request: FastifyRequest): boolean {
  const header = request.headers['accept-encoding'];
  return typeof header === 'string' && /\bgzip\b/.test(header);
}

/** HTML, gzipped when the client takes it and it is worth it (a phone on a slow link). */
export function sendHtml(request: FastifyRequest, reply: FastifyReply, body: string, status = 200) {
  reply.status(status).headers(SECURITY_HEADERS).header('content-type', 'text/html; charset=utf-8');
  reply.header('cache-control', 'no-store').header('vary', 'accept-encoding');
  if (body.length > 1024 && acceptsGzip(request)) {
    return reply.header('content-encoding', 'gzip').send(gzipSync(body));
  }
  return reply.send(body);
}

export interface StaticAsset {
  type: string;
  body: Buffer;
  gzipped: Buffer;
  etag: string;
}

export function makeAsset(type: string, body: Buffer): StaticAsset {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return { type, body, gzipped: gzipSync(body, { level: 9 }), etag };
}

/** Revalidated every time (no-cache + ETag): a deploy is never served stale, a repeat view costs a 304. */
export function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: StaticAsset) {
  reply.headers(SECURITY_HEADERS).header('content-type', asset.type).header('etag', asset.etag);
  reply.header('cache-control', 'no-cache').header('vary', 'accept-encoding');
  if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
  if (acceptsGzip(request)) return reply.header('content-encoding', 'gzip').send(asset.gzipped);
  return reply.send(asset.body);
}
