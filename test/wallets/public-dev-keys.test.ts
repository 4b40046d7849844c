/**
 * The demo wallets' keys are public (anyone can spend from their addresses). A gateway in
 * production mode, say one switched over on its dev database, must not put them in front of real
 * money: it refuses options on mainnets whose wallet holds one, and refuses to add one as a wallet.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { createBase58check } from '@scure/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { createMerchant } from '../../src/auth/merchants.ts';
import { DEV_EVM_XPUB, DEV_REGTEST_TPUB } from '../../src/dev/dev-wallets.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

const b58 = createBase58check(sha256);

describe.each(DATABASES)('public demo keys in production mode on $name', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh());
    await h.newMerchant(); // the first merchant holds the dev keys, as the demo merchant does
    h.tally.config = { ...h.tally.config, mode: 'production' };
  });
  afterAll(async () => h?.close());

  const invoice = (network: string, asset = 'ETH') =>
    h.request('POST', '/v1/invoices', {
      body: { price: { amount: '5', currency: 'USD' }, payment_options: [{ asset, network }] },
    });

  it('refuses a mainnet option whose wallet holds a demo key, naming the option, and writes nothing', async () => {
    const before = (await h.request('GET', '/v1/invoices?limit=100')).body.data.length;
    for (const [network, asset] of [
      ['ethereum', 'ETH'],
      ['polygon', 'USDC'],
    ] as const) {
      const res = await invoice(network, asset);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('no_wallet');
      expect(res.body.error.message).toContain('public demo key');
      expect(res.body.error.details.issues).toEqual([
        {
          path: 'payment_options[0].network',
          message: 'the evm wallet holds a public demo key, which serves test networks only',
        },
      ]);
    }
    expect((await h.request('GET', '/v1/invoices?limit=100')).body.data.length).toBe(before);
  });

  it('still takes the demo keys on local devnets and public test networks', async () => {
    expect((await invoice('evm-devnet')).status).toBe(201);
    expect((await invoice('sepolia')).status).toBe(201);
    expect((await invoice('bitcoin-regtest', 'BTC')).status).toBe(201);
  });

  it('refuses a demo key as a new wallet, whatever header bytes it is pasted with', async () => {
    const merchant = await createMerchant(h.tally.database.db, 'prod shop', h.clock.now());
    const { token } = await createApiKey(h.tally.database.db, merchant.id, 'admin', ['admin'], h.clock.now());
    const bytes = new Uint8Array(b58.decode(DEV_EVM_XPUB));
    bytes[9] = (bytes[9] ?? 0) ^ 0xff;
    for (const [scope, xpub] of [
      ['evm', DEV_EVM_XPUB],
      ['evm', b58.encode(bytes)],
      ['bitcoin-testnet', DEV_REGTEST_TPUB],
    ] as const) {
      const res = await h.request('POST', '/v1/wallets', { token, body: { scope, xpub } });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('invalid_xpub');
      expect(res.body.error.details.issues[0].path).toBe('xpub');
    }
  });
});
