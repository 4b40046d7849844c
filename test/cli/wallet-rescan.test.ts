/**
 * `tally wallet rescan` against a real btcd in regtest: a customer pays an address allocated to an
 * invoice (twice) and an address of the same wallet that was never handed out; the CLI, run as a
 * separate process on the same database, finds both with their exact amounts and txids, says
 * which invoice the first belongs to, and writes nothing. Then its refusals.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressDeriver } from '../../src/wallets/families.ts';
import { startChain } from '../helpers/bitcoin-e2e.ts';
import type { TestWallet } from '../helpers/btc-wallet.ts';
import type { Btcd } from '../helpers/btcd.ts';
import { DATABASES, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

const run = promisify(execFile);

let node: Btcd;
let customer: TestWallet;
beforeAll(async () => {
  ({ node, wallet: customer } = await startChain());
}, 120_000);
afterAll(async () => node?.stop());

describe.each(DATABASES)('tally wallet rescan on $name', ({ fresh }) => {
  let db: TestDatabase;
  let h: Harness;
  let walletId: string;
  let evmWalletId: string;
  let token: string;
  let xpub: string;

  beforeAll(async () => {
    db = await fresh();
    h = await createHarness({ ...db, drop: async () => {} });
    // A merchant with fresh keys: the two database legs share one chain, so each needs its own addresses.
    const merchant = await h.newMerchant('Rescan Store');
    token = merchant.token;
    const wallets = (await h.request('GET', '/v1/wallets', { token })).body.data as Array<{
      id: string;
      scope: string;
      xpub: string;
    }>;
    const bitcoin = wallets.find((w) => w.scope === 'bitcoin-regtest');
    walletId = bitcoin?.id ?? '';
    xpub = bitcoin?.xpub ?? '';
    evmWalletId = wallets.find((w) => w.scope === 'evm')?.id ?? '';
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  async function tally(
    args: string[],
    extraEnv: Record<string, string> = {},
  ): Promise<{ code: number; out: string; err: string }> {
    const env = {
      ...process.env,
      TALLY_DATABASE_URL: db.url,
      TALLY_LOG_LEVEL: 'silent',
      TALLY_BITCOIN_RPC_URL: node.rpcUrl,
      TALLY_BITCOIN_RPC_USER: 'tally',
      TALLY_BITCOIN_RPC_PASSWORD: 'regtest-only',
      TALLY_BITCOIN_NETWORK: 'bitcoin-regtest',
      ...extraEnv,
    };
    try {
      const { stdout, stderr } = await run(process.execPath, ['bin/tally.js', ...args], { env });
      return { code: 0, out: stdout, err: stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: e.stdout, err: e.stderr };
    }
  }

  it('finds funds on an allocated address and on a never-allocated one, with exact amounts', async () => {
    const created = await h.request('POST', '/v1/invoices', {
      token,
      body: {
        price: { amount: '0.001', currency: 'BTC' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      },
    });
    expect(created.status).toBe(201);
    const invoiceId = created.body.id as string;
    const allocated = created.body.payment_options[0].address as string;
    const derive = addressDeriver('bitcoin-regtest', xpub, 'p2wpkh');
    expect(allocated).toBe(derive(0));
    const neverAllocated = derive(37);
    const before = await h.tally.database.db
      .selectFrom('wallet_addresses')
      .select('derivation_index')
      .where('wallet_id', '=', walletId)
      .where('derivation_index', '=', 37)
      .executeTakeFirst();
    expect(before).toBeUndefined();

    const startHeight = (await node.rpc.call<number>('getblockcount')) + 1;
    const first = await customer.pay([{ address: allocated, amount: 100_000n }]);
    const second = await customer.pay([
      { address: allocated, amount: 23_456n },
      { address: neverAllocated, amount: 25_000_001n },
    ]);
    await customer.mine(1);
    const tip = await node.rpc.call<number>('getblockcount');
    const counts = async () =>
      Promise.all(
        (['payments', 'events', 'wallet_addresses', 'jobs'] as const).map(async (table) =>
          Number(
            (
              await h.tally.database.db
                .selectFrom(table)
                .select((eb) => eb.fn.countAll<string | number>().as('n'))
                .executeTakeFirstOrThrow()
            ).n,
          ),
        ),
      );
    const rowsBefore = await counts();

    const res = await tally([
      'wallet',
      'rescan',
      '--wallet',
      walletId,
      '--from',
      '0',
      '--to',
      '40',
      '--json',
    ]);
    expect(res.err).not.toMatch(/error/);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.out);
    expect(report).toMatchObject({
      wallet_id: walletId,
      network: 'bitcoin-regtest',
      index_from: 0,
      index_to: 40,
      height_from: 0,
      height_to: tip,
      blocks_scanned: tip + 1,
      addresses_scanned: 41,
      addresses_with_funds: 2,
      unallocated_with_funds: 1,
      total_received: '0.25123457',
      total_received_sats: '25123457',
    });
    for (const a of report.addresses) a.txids.sort();
    expect(report.addresses).toEqual([
      {
        index: 0,
        address: allocated,
        received: '0.00123456',
        received_sats: '123456',
        outputs: 2,
        txids: [first.txid, second.txid].sort(),
        first_height: tip,
        last_height: tip,
        allocated: true,
        invoice_id: invoiceId,
        option_id: created.body.payment_options[0].id,
      },
      {
        index: 37,
        address: neverAllocated,
        received: '0.25000001',
        received_sats: '25000001',
        outputs: 1,
        txids: [second.txid],
        first_height: tip,
        last_height: tip,
        allocated: false,
        invoice_id: null,
        option_id: null,
      },
    ]);
    // Progress on stderr (not a TTY here: whole lines), ending at every block read.
    expect(res.err).toContain(`rescan [`);
    expect(res.err).toContain(`${tip + 1}/${tip + 1} blocks 100%`);
    // Report only: nothing written.
    expect(await counts()).toEqual(rowsBefore);

    // From a height past the payments: nothing found.
    await customer.mine(1);
    const later = await tally([
      'wallet',
      'rescan',
      '--wallet',
      walletId,
      '--from',
      '0',
      '--to',
      '40',
      '--from-height',
      String(tip + 1),
      '--json',
    ]);
    expect(later.code).toBe(0);
    expect(JSON.parse(later.out)).toMatchObject({
      height_from: tip + 1,
      blocks_scanned: 1,
      addresses_with_funds: 0,
      total_received: '0',
    });
    const narrow = await tally(['wallet', 'rescan', '--wallet', walletId, '--from', '1', '--to', '36']);
    expect(narrow.code).toBe(0);
    expect(narrow.out).toContain('0 of 36 addresses received funds');
    const human = await tally([
      'wallet',
      'rescan',
      '--wallet',
      walletId,
      '--from',
      '0',
      '--to',
      '40',
      '--from-height',
      String(startHeight),
    ]);
    expect(human.code).toBe(0);
    expect(human.out).toContain(`#0  ${allocated}  0.00123456 BTC  invoice ${invoiceId}`);
    expect(human.out).toContain(`#37  ${neverAllocated}  0.25000001 BTC  never allocated`);
    expect(human.out).toContain('Nothing was written.');
  });

  it('refuses clearly, with a non-zero exit: unknown or EVM wallet, bad range, no node configured', async () => {
    const cases: Array<{ args: string[]; env?: Record<string, string>; message: RegExp }> = [
      { args: ['--wallet', 'wal_nope', '--from', '0', '--to', '5'], message: /No wallet wal_nope/ },
      { args: ['--wallet', evmWalletId, '--from', '0', '--to', '5'], message: /EVM wallet/ },
      { args: ['--wallet', walletId, '--from', '6', '--to', '5'], message: /--from 6 is above --to 5/ },
      {
        args: ['--wallet', walletId, '--from', '0', '--to', '10000'],
        message: /10001 addresses; at most 10000/,
      },
      {
        args: ['--wallet', walletId, '--from=-1', '--to', '5'],
        message: /--from must be a non-negative integer/,
      },
      {
        args: ['--wallet', walletId, '--from', '0', '--to', '5'],
        env: { TALLY_BITCOIN_RPC_URL: '' },
        message: /No Bitcoin node is configured/,
      },
      {
        args: ['--wallet', walletId, '--from', '0', '--to', '5', '--from-height', '999999'],
        message: /above the node's tip/,
      },
    ];
    for (const c of cases) {
      const res = await tally(['wallet', 'rescan', ...c.args, '--json'], c.env);
      expect(res.code, c.args.join(' ')).toBe(1);
      expect(JSON.parse(res.out).error.message, c.args.join(' ')).toMatch(c.message);
    }
    // 10,000 addresses exactly is allowed (range check only; no node needed to refuse the next one).
    const max = await tally(
      ['wallet', 'rescan', '--wallet', walletId, '--from', '0', '--to', '9999', '--json'],
      {
        TALLY_BITCOIN_RPC_URL: '',
      },
    );
    expect(JSON.parse(max.out).error.message).toMatch(/No Bitcoin node is configured/);
    // Eight CLI runs, each a Node start: seconds apiece while the rest of the suite shares 2 cores.
  }, 120_000);
});
