import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { createMerchant, createUser } from '../../src/auth/merchants.ts';
import { API_SCOPES, USER_ROLES, type UserRole } from '../../src/auth/scopes.ts';
import { setPassword } from '../../src/auth/user-credentials.ts';
import { openTally } from '../../src/bootstrap.ts';
import { loadConfig } from '../../src/config.ts';
import { DEV_EVM_XPUB, DEV_REGTEST_TPUB } from '../../src/dev/dev-wallets.ts';
import { startGateway } from '../../src/server.ts';
import { addWallet } from '../../src/wallets/wallet-service.ts';

export const PASSWORD = 'correct horse battery staple';

export interface WebGateway {
  url: string;
  token: string;
  merchantId: string;
  /** One user per role, all with PASSWORD: `${role}@shop.test`. */
  users: Record<UserRole, { id: string; email: string }>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the JSON loosely; assertions check it.
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

/**
 * The real gateway as `npm start` runs it (dev mode: SQLite file, worker, anvil devnet, watchers),
 * in this process, on a free port; seeded first with a merchant on the dev keys, an API key and a
 * user per role, so the demo seed is skipped.
 */
export async function startWebGateway(databaseUrl?: string): Promise<WebGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-web-'));
  const config = loadConfig(
    {},
    {
      databaseUrl: databaseUrl ?? join(dir, 'tally.db'),
      port: 0,
      logLevel: 'silent',
      evmPollMs: 100,
    },
  );
  const seed = await openTally(config);
  const now = new Date();
  const merchant = await createMerchant(seed.database.db, 'Corner Bookshop', now);
  await addWallet(seed, merchant.id, { scope: 'evm', xpub: DEV_EVM_XPUB });
  await addWallet(seed, merchant.id, { scope: 'bitcoin-regtest', xpub: DEV_REGTEST_TPUB });
  const key = await createApiKey(seed.database.db, merchant.id, 'web test', API_SCOPES, now);
  const users = {} as WebGateway['users'];
  for (const role of USER_ROLES) {
    const user = await createUser(seed.database.db, merchant.id, `${role}@shop.test`, role, now);
    await setPassword(seed.database, user.id, PASSWORD, now);
    users[role] = { id: user.id, email: user.email };
  }
  await seed.database.close();
  const gateway = await startGateway(config);
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gateway.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key.token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: await res.json() };
  };
  return {
    url: gateway.url,
    token: key.token,
    merchantId: merchant.id,
    users,
    api,
    async stop() {
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
