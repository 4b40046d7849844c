import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, redactedConfig } from '../../src/config.ts';
import { startGateway } from '../../src/server.ts';
import { TestWallet } from '../helpers/btc-wallet.ts';
import { type Btcd, startBtcd } from '../helpers/btcd.ts';

/**
 * The gateway as an operator runs it: configured by environment variables to watch a node, it
 * starts the watcher with the HTTP server, reports the chain in /readyz and stops it cleanly.
 */
describe('the gateway watches the configured Bitcoin node', () => {
  let node: Btcd;
  let dir: string;
  beforeAll(async () => {
    node = await startBtcd(new TestWallet().address);
    await node.rpc.call('generate', [3]);
    dir = mkdtempSync(join(tmpdir(), 'tally-gw-'));
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts from the environment, shows the node in /readyz, and redacts the RPC password', async () => {
    const env = {
      TALLY_DATABASE_URL: join(dir, 'tally.db'),
      TALLY_PORT: '0',
      TALLY_LOG_LEVEL: 'silent',
      TALLY_BITCOIN_RPC_URL: node.rpcUrl,
      TALLY_BITCOIN_RPC_USER: 'tally',
      TALLY_BITCOIN_RPC_PASSWORD: 'regtest-only',
      TALLY_BITCOIN_NETWORK: 'bitcoin-regtest',
      TALLY_BITCOIN_POLL_MS: '50',
    };
    const config = loadConfig(env);
    expect(redactedConfig(config).bitcoinRpcPassword).toBe('***');
    const gateway = await startGateway(config);
    try {
      const tip = await node.rpc.call<number>('getblockcount');
      let ready: { status: string; chains: Array<Record<string, unknown>> } | undefined;
      for (let i = 0; i < 200; i++) {
        ready = (await (await fetch(`${gateway.url}/readyz`)).json()) as typeof ready;
        if (ready?.status === 'ready') break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(ready).toMatchObject({
        status: 'ready',
        chains: [
          {
            network: 'bitcoin-regtest',
            state: 'synced',
            node_height: tip,
            cursor_height: tip,
            lag_blocks: 0,
          },
        ],
      });
    } finally {
      await gateway.stop();
    }
  });

  it('refuses a watcher configuration that cannot work, naming the variable', () => {
    expect(() => loadConfig({ TALLY_BITCOIN_NETWORK: 'litecoin' })).toThrow(/TALLY_BITCOIN_NETWORK/);
    expect(() => loadConfig({ TALLY_BITCOIN_RPC_URL: 'ftp://node' })).toThrow(/TALLY_BITCOIN_RPC_URL/);
    expect(() => loadConfig({ TALLY_BITCOIN_POLL_MS: '0' })).toThrow(/TALLY_BITCOIN_POLL_MS/);
  });
});
