import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitcoinRpc } from '../../src/chains/bitcoin/rpc-client.ts';
import { loadConfig } from '../../src/config.ts';
import { BTC_DEVNET_PASSWORD, BTC_DEVNET_USER, findBtcd } from '../../src/dev/bitcoin-devnet.ts';
import { startGateway } from '../../src/server.ts';
import { freshSqlite } from '../helpers/databases.ts';
import { createHarness } from '../helpers/harness.ts';

/**
 * The README's first command: `tally start` on an empty database runs the gateway on SQLite plus an
 * anvil devnet with test USDC/USDT, and the dev "pay this invoice" helper (API and CLI) takes an
 * invoice to paid through the watcher within seconds. Production mode starts no devnet and refuses
 * the helper.
 */
const run = promisify(execFile);

describe('dev mode: npm start runs a complete local devnet', () => {
  let dir: string;
  let child: ChildProcess;
  let url = '';
  let token = '';
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tally-devnet-'));
    env = {
      ...process.env,
      TALLY_DATABASE_URL: join(dir, 'tally.db'),
      TALLY_PORT: '0',
      TALLY_LOG_LEVEL: 'silent',
      TALLY_EVM_POLL_MS: '100',
    };
    child = spawn(process.execPath, ['bin/tally.js', 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
      token ||= /(tally_sk_\S+)/.exec(line)?.[1] ?? '';
      url ||= /Tally listening on (http:\/\/\S+)/.exec(line)?.[1] ?? '';
      if (token && url) break;
    }
  }, 60_000);
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    // biome-ignore lint/suspicious/noExplicitAny: tests read the JSON loosely; assertions check it.
    return { status: res.status, body: (await res.json()) as any };
  };
  const invoice = async (asset: string, amount: string, network = 'evm-devnet') => {
    const res = await api('POST', '/v1/invoices', {
      price: { amount, currency: asset },
      payment_options: [{ asset, network }],
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; status: string };
  };
  const waitForStatus = async (id: string, status: string) => {
    for (let i = 0; i < 300; i++) {
      const body = (await api('GET', `/v1/invoices/${id}`)).body;
      if (body.status === status) return body;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`invoice ${id} never reached ${status}`);
  };

  it('the devnet is watched: /readyz shows evm-devnet synced', async () => {
    for (let i = 0; i < 100; i++) {
      const ready = (await (await fetch(`${url}/readyz`)).json()) as {
        chains: Array<{ network: string; state: string }>;
      };
      if (ready.chains.some((c) => c.network === 'evm-devnet' && c.state === 'synced')) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('evm-devnet never synced');
  });

  it('USDC: POST /v1/dev/invoices/{id}/pay takes the invoice from awaiting_payment to paid', async () => {
    const inv = await invoice('USDC', '19.99');
    expect(inv.status).toBe('awaiting_payment');
    const paid = await api('POST', `/v1/dev/invoices/${inv.id}/pay`);
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({
      invoice_id: inv.id,
      asset: 'USDC',
      amount: '19.99',
      amount_base_units: '19990000',
    });
    const body = await waitForStatus(inv.id, 'paid');
    expect(body.payments[0].txid).toBe(paid.body.txid);
  }, 40_000);

  it('ETH: `tally dev pay --invoice` from another process pays it too', async () => {
    const inv = await invoice('ETH', '0.25');
    const { stdout } = await run(
      process.execPath,
      ['bin/tally.js', 'dev', 'pay', '--invoice', inv.id, '--json'],
      {
        env,
      },
    );
    const paid = JSON.parse(stdout) as { txid: string; amount: string; amount_base_units: string };
    expect(paid.amount_base_units).toBe('250000000000000000');
    expect(paid.amount).toBe('0.25');
    const body = await waitForStatus(inv.id, 'paid');
    expect(body.payments[0].txid).toBe(paid.txid);
    // `invoice show` states the paid amount in the selected option's asset, and no expiry once paid.
    const merchants = JSON.parse(
      (await run(process.execPath, ['bin/tally.js', 'merchant', 'list', '--json'], { env })).stdout,
    ) as Array<{ id: string }>;
    const shown = await run(
      process.execPath,
      ['bin/tally.js', 'invoice', 'show', '--merchant', merchants[0]?.id ?? '', '--invoice', inv.id],
      { env },
    );
    expect(shown.stdout).toContain(`Invoice ${inv.id}: paid (paid 0.25 ETH on evm-devnet)`);
  }, 40_000);

  it('Bitcoin regtest is in the devnet when btcd is installed (npm test installs it): BTC paid too', async () => {
    expect(findBtcd(), 'btcd missing: run bash scripts/install-btcd.sh').not.toBeNull();
    const inv = await invoice('BTC', '0.001', 'bitcoin-regtest');
    const paid = await api('POST', `/v1/dev/invoices/${inv.id}/pay`);
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({
      network: 'bitcoin-regtest',
      asset: 'BTC',
      amount: '0.001',
      amount_base_units: '100000',
    });
    const body = await waitForStatus(inv.id, 'paid');
    expect(body.payments[0].txid).toBe(paid.body.txid);
  }, 40_000);

  it('the Bitcoin devnet starts with SegWit and Taproot active, so witness spends (refunds) broadcast', async () => {
    const state = JSON.parse(readFileSync(join(dir, 'devnet.json'), 'utf8')) as {
      bitcoinRpcUrl: string | null;
    };
    expect(state.bitcoinRpcUrl, 'the devnet runs btcd').toBeTruthy();
    const rpc = new BitcoinRpc({
      url: state.bitcoinRpcUrl as string,
      user: BTC_DEVNET_USER,
      password: BTC_DEVNET_PASSWORD,
    });
    const info = await rpc.call<{ blocks: number; bip9_softforks: Record<string, { status: string }> }>(
      'getblockchaininfo',
    );
    // Active from the start: three 144-block BIP9 windows on btcd's regtest, tip 431.
    expect(info.blocks).toBeGreaterThanOrEqual(431);
    expect(info.bip9_softforks.segwit?.status).toBe('active');
    expect(info.bip9_softforks.taproot?.status).toBe('active');
  });
});

describe('production mode', () => {
  it('starts no devnet and refuses the pay helper with dev_mode_only', async () => {
    const db = await freshSqlite();
    const gateway = await startGateway(
      loadConfig(
        {},
        { mode: 'production', rateSources: 'coinbase', databaseUrl: db.url, port: 0, logLevel: 'silent' },
      ),
    );
    try {
      const ready = (await (await fetch(`${gateway.url}/readyz`)).json()) as { chains: unknown[] };
      expect(ready.chains).toEqual([]);
    } finally {
      await gateway.stop();
      await db.drop();
    }
    const h = await createHarness(await freshSqlite());
    try {
      h.tally.config = { ...h.tally.config, mode: 'production' };
      const res = await h.request('POST', '/v1/dev/invoices/inv_00000000000000000000000000/pay');
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('dev_mode_only');
    } finally {
      await h.close();
    }
  }, 30_000);
});
