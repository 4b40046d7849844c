import { HDKey } from '@scure/bip32';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { createMerchant } from '../../src/auth/merchants.ts';
import { API_SCOPES } from '../../src/auth/scopes.ts';
import { addWallet } from '../../src/wallets/wallet-service.ts';
import { type BitcoinHarness, bitcoinHarness, startChain } from '../helpers/bitcoin-e2e.ts';
import type { TestWallet } from '../helpers/btc-wallet.ts';
import type { Btcd } from '../helpers/btcd.ts';
import { DATABASES } from '../helpers/databases.ts';

/**
 * Every address type a wallet can hand out is watched: a BIP86 Taproot (`bcrt1p…`) and a BIP49
 * P2SH-wrapped SegWit (`2…`) invoice, each paid on btcd and detected through the same watcher.
 */
let chain: { node: Btcd; wallet: TestWallet };
beforeAll(async () => {
  chain = await startChain();
}, 120_000);
afterAll(async () => chain?.node.stop());

const TEST_VERSIONS = { private: 0x04358394, public: 0x043587cf };

describe.each(DATABASES)('Taproot and P2SH-wrapped invoices paid on btcd ($name)', ({ fresh }) => {
  let h: BitcoinHarness;
  beforeAll(async () => {
    h = await bitcoinHarness(await fresh(), chain.node);
  }, 60_000);
  afterAll(async () => h?.close());

  it.each([
    ['p2tr', "m/86'/1'/0'", /^bcrt1p/],
    ['p2sh-p2wpkh', "m/49'/1'/0'", /^2/],
  ] as const)(
    '%s: the address has the right form, and paying it makes the invoice paid',
    async (scriptType, path, form) => {
      const merchant = await createMerchant(h.tally.database.db, `Store ${scriptType}`, h.clock.now());
      const seed = crypto.getRandomValues(new Uint8Array(32));
      const xpub = HDKey.fromMasterSeed(seed, TEST_VERSIONS).derive(path).publicExtendedKey;
      await addWallet(h.tally, merchant.id, { scope: 'bitcoin-regtest', xpub, script_type: scriptType });
      const { token } = await createApiKey(
        h.tally.database.db,
        merchant.id,
        'test',
        API_SCOPES,
        h.clock.now(),
      );
      const created = await h.request('POST', '/v1/invoices', {
        token,
        body: {
          price: { amount: '0.0015', currency: 'BTC' },
          payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        },
      });
      expect(created.status).toBe(201);
      const option = created.body.payment_options[0];
      expect(option.address).toMatch(form);
      await chain.wallet.pay([{ address: option.address, amount: BigInt(option.amount_due_base_units) }]);
      await chain.wallet.mine(1);
      await h.sync();
      const body = (await h.request('GET', `/v1/invoices/${created.body.id}`, { token })).body;
      expect(body.status).toBe('paid');
      expect(body.payments).toHaveLength(1);
    },
  );
});
