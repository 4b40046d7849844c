import { createApiKey } from '../auth/api-keys.ts';
import { createMerchant } from '../auth/merchants.ts';
import { API_SCOPES } from '../auth/scopes.ts';
import type { Tally } from '../context.ts';
import { addWallet } from '../wallets/wallet-service.ts';
import { DEV_EVM_XPUB, DEV_REGTEST_TPUB } from './dev-wallets.ts';

/**
 * First start on an empty database: a demo merchant with dev wallets and an admin API key, whose
 * token is returned once (the caller prints it; only its hash is stored).
 */
export async function seedDemoIfEmpty(tally: Tally): Promise<{ merchantId: string; token: string } | null> {
  // Resumable: a start that died half-way through seeding finishes it on the next start, and the
  // key is printed then. Once any API key exists, nothing happens.
  const anyKey = await tally.database.db.selectFrom('api_keys').select('id').limit(1).executeTakeFirst();
  if (anyKey) return null;
  const now = tally.clock.now();
  const existing = await tally.database.db
    .selectFrom('merchants')
    .select('id')
    .where('name', '=', DEMO_NAME)
    .executeTakeFirst();
  const merchantId = existing?.id ?? (await createMerchant(tally.database.db, DEMO_NAME, now)).id;
  const wallets = await tally.database.db
    .selectFrom('wallets')
    .select('scope')
    .where('merchant_id', '=', merchantId)
    .execute();
  const has = new Set(wallets.map((w) => w.scope));
  const label = 'dev wallet (public test mnemonic)';
  if (!has.has('bitcoin-regtest'))
    await addWallet(tally, merchantId, { scope: 'bitcoin-regtest', xpub: DEV_REGTEST_TPUB, label });
  if (!has.has('evm')) await addWallet(tally, merchantId, { scope: 'evm', xpub: DEV_EVM_XPUB, label });
  const key = await createApiKey(tally.database.db, merchantId, 'demo admin key', API_SCOPES, now);
  return { merchantId, token: key.token };
}

const DEMO_NAME = 'Demo Store';
