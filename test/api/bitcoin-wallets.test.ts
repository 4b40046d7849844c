/**
 * Taproot wallets through the API (added, pooled, allocated to invoices as bc1p-style addresses),
 * their refusals, and the BIP21 payment URI on every invoice option.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { createBase58check } from '@scure/base';
import { HDKey } from '@scure/bip32';
import * as btc from '@scure/btc-signer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.ts';
import { applyFact } from '../../src/invoices/apply-fact.ts';
import { buildBitcoinSweep } from '../../src/settlement/sweep.ts';
import { taprootAddress, taprootOutputKey } from '../../src/wallets/taproot.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

const TEST_VERSIONS = { private: 0x04358394, public: 0x043587cf };
/** A BIP86 test-network account key, m/86'/1'/0' of a fixed seed. */
const TPUB86 = HDKey.fromMasterSeed(new Uint8Array(32).fill(9), TEST_VERSIONS).derive(
  "m/86'/1'/0'",
).publicExtendedKey;
const b58 = createBase58check(sha256);
/** The same key under the vpub (BIP84 test-network) version bytes. */
const VPUB = (() => {
  const bytes = new Uint8Array(b58.decode(TPUB86));
  new DataView(bytes.buffer).setUint32(0, 0x045f1cf6);
  return b58.encode(bytes);
})();

/** A mainnet signer's master key; its BIP84 account xpub is added with its key origin. */
const MASTER = HDKey.fromMasterSeed(new Uint8Array(32).fill(5));
const MASTER_FP = MASTER.fingerprint.toString(16).padStart(8, '0');
const XPUB84 = MASTER.derive("m/84'/0'/0'").publicExtendedKey;

/** Receive address i of TPUB86 on testnet, derived here with @scure/bip32 for the child key. */
function expectedTestnetAddress(index: number): string {
  const key = HDKey.fromExtendedKey(TPUB86, TEST_VERSIONS).deriveChild(0).deriveChild(index).publicKey;
  if (!key) throw new Error('no key');
  return taprootAddress('tb', taprootOutputKey(key));
}

describe.each(DATABASES)('Bitcoin wallets and payment URIs on $name', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh());
  });
  afterAll(async () => h?.close());

  it('refuses a vpub for p2tr, an unknown script type, and a script type on an EVM wallet; stores nothing', async () => {
    const before = (await h.request('GET', '/v1/wallets')).body.data.length;
    const vpub = await h.request('POST', '/v1/wallets', {
      body: { scope: 'bitcoin-testnet', xpub: VPUB, script_type: 'p2tr' },
    });
    expect(vpub.status).toBe(422);
    expect(vpub.body.error.code).toBe('invalid_xpub');
    expect(vpub.body.error.details.issues[0].path).toBe('xpub');
    expect(vpub.body.error.message).toMatch(/BIP84.*BIP86/);

    const unknown = await h.request('POST', '/v1/wallets', {
      body: { scope: 'bitcoin-testnet', xpub: TPUB86, script_type: 'p2sh' },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.code).toBe('validation_failed');
    expect(unknown.body.error.details.issues[0].path).toBe('script_type');

    const { token } = await h.newMerchant('evm only');
    const evm = await h.request('POST', '/v1/wallets', {
      token,
      body: { scope: 'evm', xpub: TPUB86, script_type: 'p2tr' },
    });
    expect(evm.status).toBe(422);
    expect(evm.body.error.details.issues[0].path).toBe('script_type');
    expect((await h.request('GET', '/v1/wallets')).body.data.length).toBe(before);
  });

  it('adds a p2tr wallet whose pool and invoices use BIP86 addresses', async () => {
    const res = await h.request('POST', '/v1/wallets', {
      body: { scope: 'bitcoin-testnet', xpub: TPUB86, script_type: 'p2tr', label: 'taproot' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ scope: 'bitcoin-testnet', family: 'bitcoin', script_type: 'p2tr' });
    await h.worker.runDue(); // the pool top-up job
    const pool = await h.tally.database.db
      .selectFrom('wallet_addresses')
      .select(['derivation_index', 'address'])
      .where('wallet_id', '=', res.body.id)
      .orderBy('derivation_index')
      .execute();
    expect(pool.length).toBeGreaterThan(0);
    for (const row of pool) expect(row.address).toBe(expectedTestnetAddress(row.derivation_index));

    const invoice = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '0.00123', currency: 'BTC' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-testnet' }],
      },
    });
    expect(invoice.status).toBe(201);
    const option = invoice.body.payment_options[0];
    expect(option.address).toBe(expectedTestnetAddress(0));
    expect(option.address).toMatch(/^tb1p/);
    expect(option.payment_uri).toBe(`bitcoin:${option.address}?amount=0.00123&label=${invoice.body.id}`);
  });

  it('keeps the default wallets P2WPKH, and gives EVM options their EIP-681 URI', async () => {
    const wallets = (await h.request('GET', '/v1/wallets')).body.data;
    const regtest = wallets.find((w: { scope: string }) => w.scope === 'bitcoin-regtest');
    expect(regtest.script_type).toBe('p2wpkh');
    const res = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '10.00', currency: 'USD' },
        payment_options: [
          { asset: 'BTC', network: 'bitcoin-regtest' },
          { asset: 'ETH', network: 'evm-devnet' },
        ],
      },
    });
    expect(res.status).toBe(201);
    const [btc, eth] = res.body.payment_options;
    // 10.00 USD at the fixed 65000 USD/BTC: 15385 satoshis.
    expect(btc.payment_uri).toBe(`bitcoin:${btc.address}?amount=0.00015385&label=${res.body.id}`);
    expect(btc.address).toMatch(/^bcrt1q/);
    // EVM options carry EIP-681 (chain id 31337, amount in wei): test/invoices/eip681.test.ts.
    expect(eth.payment_uri).toBe(`ethereum:${eth.address}@31337?value=${eth.amount_due_base_units}`);
    // The same field on a later read and in the outbox event's snapshot.
    const read = await h.request('GET', `/v1/invoices/${res.body.id}`);
    expect(read.body.payment_options[0].payment_uri).toBe(btc.payment_uri);
    const events = await h.request('GET', `/v1/invoices/${res.body.id}/events`);
    expect(events.body.data[0].data.invoice.payment_options[0].payment_uri).toBe(btc.payment_uri);
  });

  it('adds a wallet with a key origin; its sweep PSBT names the master and full path, and the master key signs it', async () => {
    const add = (extra: Record<string, unknown>) =>
      h.request('POST', '/v1/wallets', { body: { scope: 'bitcoin', xpub: XPUB84, ...extra } });
    const before = (await h.request('GET', '/v1/wallets')).body.data.length;
    for (const [extra, field] of [
      [{ master_fingerprint: MASTER_FP }, 'account_path'],
      [{ master_fingerprint: 'nothex!!', account_path: "m/84'/0'/0'" }, 'master_fingerprint'],
      [{ master_fingerprint: MASTER_FP, account_path: "m/84'/0'/1'" }, 'account_path'],
    ] as const) {
      const refused = await add(extra);
      expect(refused.status, JSON.stringify(refused.body)).toBe(422);
      expect(refused.body.error.details.issues[0].path).toBe(field);
    }
    expect((await h.request('GET', '/v1/wallets')).body.data).toHaveLength(before);

    const added = await add({ master_fingerprint: MASTER_FP.toUpperCase(), account_path: 'm/84h/0h/0h' });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body).toMatchObject({ master_fingerprint: MASTER_FP, account_path: "m/84'/0'/0'" });
    const read = await h.request('GET', `/v1/wallets/${added.body.id}`);
    expect(read.body).toMatchObject({ master_fingerprint: MASTER_FP, account_path: "m/84'/0'/0'" });
    const regtest = (await h.request('GET', '/v1/wallets')).body.data.find(
      (w: { scope: string }) => w.scope === 'bitcoin-regtest',
    );
    expect(regtest).toMatchObject({ master_fingerprint: null, account_path: null });

    // A paid invoice on that wallet (the payment reported as a confirmed fact), then a sweep.
    while ((await h.worker.runDue()) > 0) {}
    const invoice = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '0.001', currency: 'BTC' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin' }],
      },
    });
    expect(invoice.status, JSON.stringify(invoice.body)).toBe(201);
    const option = invoice.body.payment_options[0];
    const paid = await applyFact(h.tally, h.merchantId, invoice.body.id, {
      kind: 'payment_seen',
      id: 'seen:origin',
      payment: {
        paymentId: newId('pay'),
        optionId: option.id,
        txid: 'cd'.repeat(32),
        outputIndex: 1,
        amount: BigInt(option.amount_due_base_units),
        rbf: false,
        confirmations: 6,
        blockHash: 'ef'.repeat(32),
        blockHeight: 800_000,
      },
    });
    expect(paid.invoice.status).toBe('paid');
    const sweep = await buildBitcoinSweep(h.tally, h.merchantId, {
      network: 'bitcoin',
      destination: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4',
      feeRate: '2',
    });
    const tx = btc.Transaction.fromPSBT(Buffer.from(sweep.psbt, 'base64'));
    const index = option.derivation_index ?? paid.invoice.options[0]?.derivationIndex;
    const H = 0x8000_0000;
    expect(tx.getInput(0).bip32Derivation?.[0]?.[1]).toEqual({
      fingerprint: MASTER.fingerprint,
      path: [84 + H, H, H, 0, index],
    });
    expect(tx.sign(MASTER as Parameters<typeof tx.sign>[0])).toBe(1);
    tx.finalize();
    expect(tx.isFinal).toBe(true);
  });
});
