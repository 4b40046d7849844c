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
  const any = await tally.database.db.selectFrom('merchants').select('id').limit(1).executeTakeFirst();
  if (any) return null;
  const now = tally.clock.now();
  const merchant = await createMerchant(tally.database.db, 'Demo Store', now);
  await addWallet(tally, merchant.id, {
    scope: 'bitcoin-regtest',
    xpub: DEV_REGTEST_TPUB,
    label: 'dev wallet (public test mnemonic)',
  });
  await addWallet(tally, merchant.id, {
    scope: 'evm',
    xpub: DEV_EVM_XPUB,
    label: 'dev wallet (public test mnemonic)',
  });
  const key = await createApiKey(tally.database.db, merchant.id, 'demo admin key', API_SCOPES, now);
  return { merchantId: merchant.id, token: key.token };
}
