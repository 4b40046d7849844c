import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { makeAsset, type StaticAsset, sendAsset } from './respond.ts';

const TYPES: Record<string, string> = {
  'app.css': 'text/css; charset=utf-8',
  'checkout.js': 'text/javascript; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
};

/** The few static files, read and gzipped once at startup. */
export function registerAssets(server: FastifyInstance): void {
  const assets = new Map<string, StaticAsset>();
  for (const [name, type] of Object.entries(TYPES)) {
    assets.set(name, makeAsset(type, readFileSync(new URL(`./static/${name}`, import.meta.url))));
  }
  server.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
    const asset = assets.get(request.params.name);
    if (!asset) return reply.status(404).type('text/plain').send('Not found');
    return sendAsset(request, reply, asset);
  });
}
