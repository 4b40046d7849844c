import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { sha256 } from '@noble/hashes/sha2.js';
import { createBase58check } from '@scure/base';
import { HDKey } from '@scure/bip32';
import { afterAll, describe, expect, it } from 'vitest';
import { DEV_EVM_XPUB, DEV_REGTEST_TPUB } from '../../src/dev/dev-wallets.ts';

const TEST_VERSIONS = { private: 0x04358394, public: 0x043587cf };
/** A BIP86 test-network account key (m/86'/1'/0' of a fixed seed). */
const TPUB86 = HDKey.fromMasterSeed(new Uint8Array(32).fill(3), TEST_VERSIONS).derive(
  "m/86'/1'/0'",
).publicExtendedKey;
const b58 = createBase58check(sha256);
function withVersion(key: string, version: number): string {
  const bytes = new Uint8Array(b58.decode(key));
  new DataView(bytes.buffer).setUint32(0, version);
  return b58.encode(bytes);
}

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tally-cli-'));
const env = { ...process.env, TALLY_DATABASE_URL: join(dir, 'cli.db'), TALLY_LOG_LEVEL: 'silent' };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A migrated database with a new merchant, its wallet and one invoice, made through the CLI. */
async function shopWithInvoice(scope: string, xpub: string, price: string, option: string) {
  expect((await tally('migrate', '--json')).code).toBe(0);
  const merchant = JSON.parse((await tally('merchant', 'create', '--name', `Shop ${scope}`, '--json')).out);
  expect(
    (await tally('wallet', 'add', '--merchant', merchant.id, '--scope', scope, '--xpub', xpub)).code,
  ).toBe(0);
  const [amount = '', currency = ''] = price.split(' ');
  const created = await tally(
    'invoice',
    'create',
    ...['--merchant', merchant.id, '--amount', amount, '--currency', currency, '--option', option, '--json'],
  );
  return { merchant, invoice: JSON.parse(created.out) };
}

async function tally(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, ['bin/tally.js', ...args], { env });
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

describe('tally CLI', () => {
  it('runs the admin flow with --json output: merchant, key, wallet, invoice create and show', async () => {
    expect((await tally('migrate', '--json')).code).toBe(0);
    const merchant = JSON.parse((await tally('merchant', 'create', '--name', 'CLI Shop', '--json')).out);
    expect(merchant.id).toMatch(/^mer_/);
    const listed = JSON.parse((await tally('merchant', 'list', '--json')).out);
    expect(listed).toContainEqual(expect.objectContaining({ id: merchant.id, name: 'CLI Shop' }));
    const key = JSON.parse(
      (
        await tally(
          'apikey',
          'create',
          '--merchant',
          merchant.id,
          '--name',
          'ops',
          '--scopes',
          'invoices:read',
          '--json',
        )
      ).out,
    );
    expect(key.token).toMatch(/^tally_sk_key_/);
    const wallet = JSON.parse(
      (
        await tally(
          'wallet',
          'add',
          '--merchant',
          merchant.id,
          '--scope',
          'bitcoin-regtest',
          '--xpub',
          DEV_REGTEST_TPUB,
          '--json',
        )
      ).out,
    );
    expect(wallet.scope).toBe('bitcoin-regtest');
    const invoice = JSON.parse(
      (
        await tally(
          'invoice',
          'create',
          '--merchant',
          merchant.id,
          '--amount',
          '0.5',
          '--currency',
          'BTC',
          '--option',
          'BTC/bitcoin-regtest',
          '--json',
        )
      ).out,
    );
    expect(invoice.status).toBe('awaiting_payment');
    expect(invoice.payment_options[0].amount_due_base_units).toBe('50000000');
    const shown = JSON.parse(
      (await tally('invoice', 'show', '--merchant', merchant.id, '--invoice', invoice.id, '--json')).out,
    );
    expect(shown.id).toBe(invoice.id);
    const revoked = await tally('apikey', 'revoke', '--merchant', merchant.id, '--key', key.id, '--json');
    expect(JSON.parse(revoked.out)).toEqual({ revoked: true });
    // A dozen CLI runs, each a Node start (5-7 s apiece on a loaded 2-core machine).
  }, 180_000);

  it('adds a Taproot wallet with --script-type p2tr and refuses a vpub or an unknown script type', async () => {
    expect((await tally('migrate', '--json')).code).toBe(0);
    const merchant = JSON.parse((await tally('merchant', 'create', '--name', 'Taproot Shop', '--json')).out);
    const add = (xpub: string, scriptType: string) =>
      tally(
        'wallet',
        'add',
        '--merchant',
        merchant.id,
        '--scope',
        'bitcoin-testnet',
        '--xpub',
        xpub,
        '--script-type',
        scriptType,
        '--json',
      );
    const vpub = await add(withVersion(TPUB86, 0x045f1cf6), 'p2tr');
    expect(vpub.code).toBe(1);
    expect(JSON.parse(vpub.out).error).toMatchObject({
      code: 'invalid_xpub',
      details: { issues: [{ path: 'xpub' }] },
    });
    const bogus = await add(TPUB86, 'p2pkh');
    expect(bogus.code).toBe(1);
    expect(JSON.parse(bogus.out).error).toMatchObject({
      code: 'validation_failed',
      details: { issues: [{ path: 'script_type' }] },
    });
    const added = await add(TPUB86, 'p2tr');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.out)).toMatchObject({ scope: 'bitcoin-testnet', script_type: 'p2tr' });
    const invoice = JSON.parse(
      (
        await tally(
          'invoice',
          'create',
          '--merchant',
          merchant.id,
          '--amount',
          '0.0001',
          '--currency',
          'BTC',
          '--option',
          'BTC/bitcoin-testnet',
          '--json',
        )
      ).out,
    );
    expect(invoice.payment_options[0].address).toMatch(/^tb1p/);
    expect(invoice.payment_options[0].payment_uri).toBe(
      `bitcoin:${invoice.payment_options[0].address}?amount=0.0001&label=${invoice.id}`,
    );
  });

  it('gives clear coded errors and a non-zero exit', async () => {
    const missing = await tally('merchant', 'create', '--json');
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.out).error).toMatchObject({
      code: 'validation_failed',
      message: '--name is required.',
    });
    const xprv = await tally(
      'wallet',
      'add',
      '--merchant',
      'mer_x',
      '--scope',
      'bitcoin-testnet',
      '--xpub',
      'tprv8ZgxMBicQKsPd7Uf69XL1XwhmjHopUGep8GuEiJDZmbQz6o58LninorQAfcKZWARbtRtfnLcJ5MQ2AtHcQJCCRUcMRvmDUjyEmNUWwx8UbK',
    );
    expect(xprv.code).toBe(1);
    expect(xprv.out).toContain('private_key_refused');
    expect(xprv.out).not.toContain('tprv8Zgx');
    const unknown = await tally('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.out).toContain('Unknown command');
  });

  it('answers a misspelt flag, an unknown merchant, a repeated revoke and a bad email plainly', async () => {
    expect((await tally('migrate', '--json')).code).toBe(0);
    const misspelt = await tally('merchant', 'create', '--nmae', 'x');
    expect(misspelt.code).toBe(2);
    expect(misspelt.out).toContain("error (validation_failed): Unknown option '--nmae'");
    expect(misspelt.out).toContain('tally help');
    expect(misspelt.out).not.toContain('    at ');
    const noValue = await tally('merchant', 'create', '--name', '--json');
    expect(noValue.code).toBe(2);
    expect(JSON.parse(noValue.out).error.code).toBe('validation_failed');

    const ghost = await tally('apikey', 'create', '--merchant', 'mer_nope', '--name', 'x');
    expect(ghost.code).toBe(1);
    expect(ghost.out).toContain('error (not_found): No merchant mer_nope; "tally merchant list" shows them.');
    expect(ghost.out).not.toMatch(/FOREIGN KEY|foreign key/);
    const ghostWallet = await tally(
      ...[
        'wallet',
        'add',
        '--merchant',
        'mer_nope',
        '--scope',
        'bitcoin-regtest',
        '--xpub',
        DEV_REGTEST_TPUB,
      ],
    );
    expect(ghostWallet.code).toBe(1);
    expect(ghostWallet.out).toContain('error (not_found): No merchant mer_nope.');

    const merchant = JSON.parse((await tally('merchant', 'create', '--name', 'Plain Shop', '--json')).out);
    const key = JSON.parse(
      (await tally('apikey', 'create', '--merchant', merchant.id, '--name', 'k', '--json')).out,
    );
    const revoke = () => tally('apikey', 'revoke', '--merchant', merchant.id, '--key', key.id);
    expect(await revoke()).toEqual({ code: 0, out: 'Revoked.\n' });
    expect(await revoke()).toEqual({ code: 0, out: 'Already revoked.\n' });
    const stranger = await tally(
      'apikey',
      'revoke',
      '--merchant',
      merchant.id,
      '--key',
      'key_00000000000000000000000000',
    );
    expect(stranger.code).toBe(1);
    expect(stranger.out).toContain('error (not_found)');

    const badEmail = await tally(
      'user',
      'create',
      '--merchant',
      merchant.id,
      '--email',
      'not-an-email',
      '--role',
      'owner',
    );
    expect(badEmail.code).toBe(1);
    expect(badEmail.out).toContain(
      'error (validation_failed): --email "not-an-email" is not an email address.',
    );
  }, 180_000);

  it('takes --option and --currency in any letter case, as people type them', async () => {
    // A key of its own: one key serves one merchant, and other tests here add the dev keys.
    const tpub = HDKey.fromMasterSeed(new Uint8Array(32).fill(9), TEST_VERSIONS).derive(
      "m/84'/1'/0'",
    ).publicExtendedKey;
    const { invoice } = await shopWithInvoice('bitcoin-regtest', tpub, '12.00 usd', 'btc/Bitcoin-Regtest');
    expect(invoice.price).toEqual({ amount: '12', currency: 'USD' });
    const options = invoice.payment_options.map(
      (o: { asset: string; network: string }) => `${o.asset}/${o.network}`,
    );
    expect(options).toEqual(['BTC/bitcoin-regtest']);
  }, 60_000);

  it('--option without a network says the format is ASSET/NETWORK instead of "Unknown network """', async () => {
    for (const option of ['USDC', '/evm-devnet', 'USDC/evm-devnet/x']) {
      const res = await tally(
        'invoice',
        'create',
        '--merchant',
        'mer_x',
        '--amount',
        '12.00',
        '--currency',
        'USD',
        '--option',
        option,
      );
      expect(res.code).toBe(1);
      expect(res.out).toContain('error (validation_failed)');
      expect(res.out).toContain('ASSET/NETWORK');
      expect(res.out).toContain('USDC/evm-devnet');
      expect(res.out).not.toContain('Unknown network');
    }
    const json = await tally(
      'invoice',
      'create',
      '--merchant',
      'mer_x',
      '--amount',
      '1',
      '--currency',
      'USD',
      '--option',
      'USDC',
      '--json',
    );
    expect(JSON.parse(json.out).error).toMatchObject({
      code: 'validation_failed',
      details: { issues: [{ path: 'option' }] },
    });
  }, 60_000);

  it("`dev pay --option` with an id the invoice lacks names the unknown id and the invoice's options", async () => {
    const { invoice } = await shopWithInvoice('evm', DEV_EVM_XPUB, '12.00 USDC', 'USDC/evm-devnet');
    const optionId = invoice.payment_options[0].id as string;
    const bogus = 'opt_00000000000000000000000000';
    const res = await tally('dev', 'pay', '--invoice', invoice.id, '--option', bogus);
    expect(res.code).toBe(1);
    expect(res.out).not.toContain('has no option on evm-devnet');
    expect(res.out).toContain(`error (validation_failed): The invoice ${invoice.id} has no option ${bogus}`);
    expect(res.out).toContain(`${optionId} (USDC on evm-devnet)`);
    const json = await tally('dev', 'pay', '--invoice', invoice.id, '--option', bogus, '--json');
    expect(JSON.parse(json.out).error).toMatchObject({
      code: 'validation_failed',
      details: { issues: [{ path: 'option_id' }] },
    });
  }, 60_000);

  it('`invoice show` states amounts with their asset, and "nothing received" before any payment', async () => {
    const tpub = HDKey.fromMasterSeed(new Uint8Array(32).fill(7), TEST_VERSIONS).derive(
      "m/84'/1'/0'",
    ).publicExtendedKey;
    const { merchant, invoice } = await shopWithInvoice(
      'bitcoin-regtest',
      tpub,
      '0.001 BTC',
      'BTC/bitcoin-regtest',
    );
    const shown = await tally('invoice', 'show', '--merchant', merchant.id, '--invoice', invoice.id);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain(`Invoice ${invoice.id}: awaiting_payment (nothing received yet, expires`);
    expect(shown.out).not.toMatch(/paid 0\b/);
  }, 60_000);

  it('`tally start` on an empty database seeds the demo merchant, prints a working key once, and serves', async () => {
    const startDir = mkdtempSync(join(tmpdir(), 'tally-start-'));
    const child = spawn(process.execPath, ['bin/tally.js', 'start'], {
      env: { ...env, TALLY_DATABASE_URL: join(startDir, 'start.db'), TALLY_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let token = '';
      let url = '';
      const lines = createInterface({ input: child.stdout });
      for await (const line of lines) {
        const t = /(tally_sk_\S+)/.exec(line);
        if (t?.[1]) token = t[1];
        const u = /Tally listening on (http:\/\/\S+)/.exec(line);
        if (u?.[1]) url = u[1];
        if (token && url) break;
      }
      const res = await fetch(`${url}/v1/invoices`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          price: { amount: '25.00', currency: 'USD' },
          payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        }),
      });
      expect(res.status).toBe(201);
      const body = (await res.json()) as { status: string };
      expect(body.status).toBe('awaiting_payment');
    } finally {
      child.kill('SIGTERM');
      rmSync(startDir, { recursive: true, force: true });
    }
  });

  it('`tally start` on a port already taken exits 1 with a clear error, having started nothing', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    const startDir = mkdtempSync(join(tmpdir(), 'tally-busy-'));
    const database = join(startDir, 'busy.db');
    try {
      // Before the fix the process printed the error and stayed up, with its worker, watchers and
      // devnet running: execFile would then wait until the test timed out.
      const result = await run(process.execPath, ['bin/tally.js', 'start'], {
        env: { ...env, TALLY_DATABASE_URL: database, TALLY_PORT: String(port), TALLY_DEVNET: 'off' },
        timeout: 20_000,
      }).then(
        () => ({ code: 0, stdout: '' }),
        (error: { code: number; stdout: string }) => error,
      );
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`127.0.0.1:${port} is already in use`);
      // Refused before the database was opened: no file, no demo merchant, no key printed.
      expect(existsSync(database)).toBe(false);
      expect(result.stdout).not.toContain('tally_sk_');
    } finally {
      busy.close();
      rmSync(startDir, { recursive: true, force: true });
    }
  });
});
