/**
 * `npm run bench -- web`: the hosted checkout's first load in a real browser, and the dashboard's
 * invoice list with 100,000 invoices, each beside a baseline measured in the same run.
 *
 * Checkout: Debian's Chromium (TALLY_CHROMIUM, as the browser tests) loads /pay/:id in a fresh
 * context (cold cache) over loopback, 10 times; bytes are what crossed the wire (compressed bodies
 * + headers) up to the load event; ms is the Navigation Timing load event. Baselines: the same
 * responses uncompressed (what gzip saves) and a cold load of /healthz (the browser's floor).
 *
 * Dashboard: server time of GET /dashboard?queue=… through Fastify's inject (session lookup,
 * queue counts, keyset page, rendering, gzip; no socket), median of 30, on SQLite. Baseline: the
 * bare indexed SELECT of one page (merchant_id, id desc limit 50) through Kysely, and the same
 * page by OFFSET at the deep page's depth, to show what keyset pagination avoids.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Selectable } from 'kysely';
import pino from 'pino';
import { chromium } from 'playwright-core';
import { buildApp } from '../src/api/app.ts';
import { createApiKey } from '../src/auth/api-keys.ts';
import { createMerchant, createUser } from '../src/auth/merchants.ts';
import { API_SCOPES } from '../src/auth/scopes.ts';
import { setPassword } from '../src/auth/user-credentials.ts';
import { openTally } from '../src/bootstrap.ts';
import { loadConfig } from '../src/config.ts';
import type { Tally } from '../src/context.ts';
import { newId } from '../src/core/ids.ts';
import type { InvoicesTable } from '../src/db/schema.ts';
import { iso } from '../src/db/values.ts';
import { DEV_REGTEST_TPUB } from '../src/dev/dev-wallets.ts';
import { addWallet } from '../src/wallets/wallet-service.ts';
import { type Row, row } from './lib.ts';

const INVOICES = 100_000;
const PASSWORD = 'bench password long enough';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const p95 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))] ?? Number.NaN;
};

/** 100k invoice rows cloned from one real invoice, 500 per INSERT, one transaction: a status mix of a busy store. */
export async function seedInvoices(tally: Tally, merchantId: string, template: Selectable<InvoicesTable>) {
  const statuses = [
    ...Array(40).fill('awaiting_payment'),
    ...Array(30).fill('paid'),
    ...Array(25).fill('expired'),
    ...Array(5).fill('detected'),
  ] as string[];
  const start = Date.parse('2026-01-01T00:00:00Z');
  const started = performance.now();
  await tally.database.write(async (trx) => {
    for (let from = 0; from < INVOICES; from += 500) {
      const rows: Array<Selectable<InvoicesTable>> = [];
      for (let i = from; i < Math.min(INVOICES, from + 500); i++) {
        const status = statuses[i % statuses.length] ?? 'expired';
        const at = iso(new Date(start + i * 60_000));
        rows.push({
          ...template,
          id: newId('inv'),
          merchant_id: merchantId,
          status,
          merchant_order_id: `order-${i}`,
          fulfilled_at: status === 'paid' && i % 2 === 0 ? at : null,
          created_at: at,
          updated_at: at,
        });
      }
      await trx.insertInto('invoices').values(rows).execute();
    }
  });
  return performance.now() - started;
}

async function timeRequests(n: number, run: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 3; i++) await run(); // warm: prepared statements, JIT
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return times;
}

async function checkoutLoad(url: string, invoiceId: string, tally: Tally) {
  const executablePath = process.env.TALLY_CHROMIUM ?? '/usr/bin/chromium';
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const cold = async (path: string) => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const page = await context.newPage();
    const sizes: Array<Promise<number>> = [];
    page.on('requestfinished', (r) => {
      sizes.push(r.sizes().then((s) => s.responseBodySize + s.responseHeadersSize));
    });
    await page.goto(`${url}${path}`, { waitUntil: 'load' });
    const ms = await page.evaluate<number>(
      "(() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventStart - n.startTime; })()",
    );
    const bytes = (await Promise.all(sizes)).reduce((a, b) => a + b, 0);
    await context.close();
    return { ms, bytes, requests: sizes.length };
  };
  await cold(`/pay/${invoiceId}`); // warm the server's code paths once
  const pages = [];
  const floors = [];
  for (let i = 0; i < 10; i++) {
    pages.push(await cold(`/pay/${invoiceId}`));
    floors.push(await cold('/healthz'));
  }
  await browser.close();
  // The same three responses uncompressed, read through inject (no socket, no browser).
  const { server } = buildApp(tally);
  let raw = 0;
  let gz = 0;
  for (const path of [`/pay/${invoiceId}`, '/assets/app.css', '/assets/checkout.js']) {
    const res = await server.inject({ method: 'GET', url: path });
    raw += res.rawPayload.length;
    gz += gzipSync(res.rawPayload).length;
  }
  await server.close();
  return {
    ms: median(pages.map((p) => p.ms)),
    bytes: median(pages.map((p) => p.bytes)),
    requests: pages[0]?.requests ?? 0,
    floorMs: median(floors.map((p) => p.ms)),
    raw,
    gz,
  };
}

export async function benchWeb(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-bench-web-'));
  const config = loadConfig({}, { databaseUrl: join(dir, 'tally.db'), logLevel: 'silent', devnet: 'off' });
  const tally = await openTally(config, { log: pino({ level: 'silent' }) });
  const now = tally.clock.now();
  const merchant = await createMerchant(tally.database.db, 'Bench Bookshop', now);
  await addWallet(tally, merchant.id, { scope: 'bitcoin-regtest', xpub: DEV_REGTEST_TPUB });
  const key = await createApiKey(tally.database.db, merchant.id, 'bench', API_SCOPES, now);
  const admin = await createUser(tally.database.db, merchant.id, 'ops@bench.test', 'admin', now);
  await setPassword(tally.database, admin.id, PASSWORD, now);
  const { server } = buildApp(tally);
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  const created = await server.inject({
    method: 'POST',
    url: '/v1/invoices',
    headers: { authorization: `Bearer ${key.token}`, 'content-type': 'application/json' },
    payload: JSON.stringify({
      price: { amount: '24.90', currency: 'USD' },
      merchant_order_id: 'bench-checkout',
      payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
    }),
  });
  const invoice = JSON.parse(created.body) as { id: string };
  if (created.statusCode !== 201) throw new Error(`invoice creation failed: ${created.body}`);

  const checkout = await checkoutLoad(url, invoice.id, tally);

  const template = await tally.database.db
    .selectFrom('invoices')
    .selectAll()
    .where('id', '=', invoice.id)
    .executeTakeFirstOrThrow();
  const seedMs = await seedInvoices(tally, merchant.id, template);
  console.log(`seeded ${INVOICES} invoices in ${Math.round(seedMs)} ms`);
  const login = await server.inject({
    method: 'POST',
    url: '/dashboard/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ email: 'ops@bench.test', password: PASSWORD }).toString(),
  });
  const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
  const get = async (path: string) => {
    const res = await server.inject({
      method: 'GET',
      url: path,
      headers: { cookie, 'accept-encoding': 'gzip' },
    });
    if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode}`);
    return res;
  };
  // The deep page: 35,000 rows into the awaiting-payment queue (of ~40,000).
  const deepCursor = await tally.database.db
    .selectFrom('invoices')
    .select('id')
    .where('merchant_id', '=', merchant.id)
    .where('status', 'in', ['created', 'awaiting_payment'])
    .orderBy('id', 'desc')
    .offset(35_000)
    .limit(1)
    .executeTakeFirstOrThrow();
  const first = await timeRequests(30, () => get('/dashboard?queue=awaiting_payment'));
  const deep = await timeRequests(30, () => get(`/dashboard?queue=awaiting_payment&before=${deepCursor.id}`));
  const paid = await timeRequests(30, () => get('/dashboard?queue=paid_unfulfilled'));
  const bare = await timeRequests(30, () =>
    tally.database.db
      .selectFrom('invoices')
      .select(['id', 'merchant_order_id', 'status', 'price_amount', 'price_currency', 'created_at'])
      .where('merchant_id', '=', merchant.id)
      .orderBy('id', 'desc')
      .limit(50)
      .execute(),
  );
  const offset = await timeRequests(30, () =>
    tally.database.db
      .selectFrom('invoices')
      .select(['id', 'merchant_order_id', 'status', 'price_amount', 'price_currency', 'created_at'])
      .where('merchant_id', '=', merchant.id)
      .where('status', 'in', ['created', 'awaiting_payment'])
      .orderBy('id', 'desc')
      .offset(35_000)
      .limit(50)
      .execute(),
  );
  const rendered = await get('/dashboard?queue=awaiting_payment');
  console.log(
    `dashboard page: ${rendered.rawPayload.length} bytes gzipped, p95 first ${p95(first).toFixed(1)} ms, deep ${p95(deep).toFixed(1)} ms`,
  );
  await server.close();
  await tally.database.close();
  rmSync(dir, { recursive: true, force: true });

  const bareMs = median(bare);
  return [
    row(
      'checkout first load, Chromium cold context over loopback (to load event)',
      checkout.ms,
      'ms',
      'cold load of /healthz in the same browser',
      checkout.floorMs,
      'fast on a phone: < 1000 ms here',
      checkout.ms < 1000,
    ),
    row(
      `checkout first load, bytes on the wire (${checkout.requests} requests, gzip)`,
      checkout.bytes,
      'bytes',
      'page + CSS + JS uncompressed',
      checkout.raw,
      'budget < 16000 bytes (the browser test)',
      checkout.bytes < 16_000,
    ),
    row(
      `dashboard awaiting-payment queue, first page of 50, ${INVOICES} invoices (server time)`,
      median(first),
      'ms',
      'bare indexed SELECT of one page (merchant_id, id desc limit 50)',
      bareMs,
      '<= 100 ms per page',
      p95(first) <= 100,
    ),
    row(
      'dashboard awaiting-payment queue, page at row 35,000 (keyset cursor)',
      median(deep),
      'ms',
      'bare SELECT of the same page by OFFSET 35000',
      median(offset),
      '<= 100 ms per page',
      p95(deep) <= 100,
    ),
    row(
      'dashboard paid-not-fulfilled queue, first page of 50',
      median(paid),
      'ms',
      'bare indexed SELECT of one page',
      bareMs,
      '<= 100 ms per page',
      p95(paid) <= 100,
    ),
  ];
}
