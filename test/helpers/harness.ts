import { randomBytes } from 'node:crypto';
import { HDKey } from '@scure/bip32';
import pino from 'pino';
import { buildApp } from '../../src/api/app.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { createMerchant } from '../../src/auth/merchants.ts';
import { API_SCOPES, type ApiScope } from '../../src/auth/scopes.ts';
import { openTally } from '../../src/bootstrap.ts';
import { loadConfig } from '../../src/config.ts';
import type { QuoteSource, Tally } from '../../src/context.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { DEV_EVM_XPUB, DEV_REGTEST_TPUB } from '../../src/dev/dev-wallets.ts';
import { Worker } from '../../src/jobs/worker.ts';
import { FixedRateProvider, RateService } from '../../src/rates/index.ts';
import { addWallet } from '../../src/wallets/wallet-service.ts';
import type { TestDatabase } from './databases.ts';

export interface Harness {
  tally: Tally;
  clock: ManualClock;
  app: ReturnType<typeof buildApp>;
  worker: Worker;
  merchantId: string;
  /** An admin-scoped token for the merchant. */
  token: string;
  newMerchant(name?: string): Promise<{ merchantId: string; token: string }>;
  keyWithScopes(scopes: ApiScope[]): Promise<string>;
  request(
    method: string,
    url: string,
    options?: { token?: string | null; body?: unknown; headers?: Record<string, string>; rawBody?: string },
    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON response shapes; assertions check them.
  ): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** A Tally on the given database with a manual clock, fixed rates and one merchant with dev wallets. */
export async function createHarness(
  db: TestDatabase,
  options: { rates?: QuoteSource; poolTarget?: number } = {},
): Promise<Harness> {
  const clock = new ManualClock(new Date('2026-11-21T12:00:00Z'));
  const config = loadConfig(
    {},
    {
      databaseUrl: db.url,
      addressPoolTarget: options.poolTarget ?? 5,
      logLevel: 'silent',
      // Webhook receivers in tests listen on loopback, which the SSRF guard refuses unless allowed.
      webhookAllowedNetworks: '127.0.0.1',
    },
  );
  const rates =
    options.rates ??
    new RateService({ providers: [new FixedRateProvider(undefined, clock)], clock, maxAgeMs: 60_000 });
  const tally = await openTally(config, { clock, rates, log: pino({ level: 'silent' }) });
  const app = buildApp(tally);
  const worker = new Worker(tally);

  let merchants = 0;
  const newMerchant = async (name = 'Test Store') => {
    const m = await createMerchant(tally.database.db, name, clock.now());
    // The first merchant gets the dev keys (known addresses); later ones fresh keys, because a key
    // may serve only one wallet per scope (shared keys would share addresses).
    const keys = merchants++ === 0 ? { regtest: DEV_REGTEST_TPUB, evm: DEV_EVM_XPUB } : freshKeys();
    await addWallet(tally, m.id, { scope: 'bitcoin-regtest', xpub: keys.regtest });
    await addWallet(tally, m.id, { scope: 'evm', xpub: keys.evm });
    const key = await createApiKey(tally.database.db, m.id, 'test', API_SCOPES, clock.now());
    return { merchantId: m.id, token: key.token };
  };
  const first = await newMerchant();
  const harness: Harness = {
    tally,
    clock,
    app,
    worker,
    merchantId: first.merchantId,
    token: first.token,
    newMerchant,
    keyWithScopes: async (scopes) =>
      (await createApiKey(tally.database.db, first.merchantId, 'scoped', scopes, clock.now())).token,
    async request(method, url, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const token = opts.token === undefined ? first.token : opts.token;
      if (token) headers.authorization = `Bearer ${token}`;
      let payload: string | undefined = opts.rawBody;
      if (opts.body !== undefined) payload = JSON.stringify(opts.body);
      if (payload !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
      const res = await app.server.inject({
        method: method as 'GET',
        url,
        headers,
        ...(payload !== undefined ? { payload } : {}),
      });
      let body: unknown = res.body;
      try {
        body = JSON.parse(res.body);
      } catch {}
      return { status: res.statusCode, body, headers: res.headers as Record<string, unknown> };
    },
    async close() {
      await worker.stop();
      await app.server.close();
      await tally.database.close();
      await db.drop();
    },
  };
  return harness;
}

/** Watch-only keys of a random seed: tests may hold seeds, the gateway never does. */
export function freshKeys(): { regtest: string; evm: string } {
  const seed = randomBytes(32);
  const test = { private: 0x04358394, public: 0x043587cf };
  return {
    regtest: HDKey.fromMasterSeed(seed, test).derive("m/84'/1'/0'").publicExtendedKey,
    evm: HDKey.fromMasterSeed(seed).derive("m/44'/60'/0'/0").publicExtendedKey,
  };
}

/** The id of the harness merchant's wallet for `scope` (say 'bitcoin-regtest'). */
export async function walletIdOf(h: Harness, scope: string): Promise<string> {
  const wallet = await h.tally.database.db
    .selectFrom('wallets')
    .select('id')
    .where('merchant_id', '=', h.merchantId)
    .where('scope', '=', scope)
    .executeTakeFirstOrThrow();
  return wallet.id;
}
