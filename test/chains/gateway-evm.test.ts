import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, redactedConfig } from '../../src/config.ts';
import { startGateway } from '../../src/server.ts';
import { type EvmChain, startEvmChain } from '../helpers/evm-e2e.ts';
import { deadUrl } from '../helpers/rpc-proxy.ts';

/**
 * TALLY_EVM_RPC configures EVM watchers at boot: a network with a dead first URL and a real anvil
 * as fallback is watched and shows as synced in /readyz; provider URLs (API keys in their paths)
 * never reach the startup log; a configured node means no devnet is started.
 */
let polygon: EvmChain;
let dir: string;
beforeAll(async () => {
  polygon = await startEvmChain('polygon');
  dir = mkdtempSync(join(tmpdir(), 'tally-gw-evm-'));
}, 60_000);
afterAll(async () => {
  await polygon?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('EVM watchers from the configuration', () => {
  it('starts from TALLY_EVM_RPC, falls back past a dead URL, and shows the network in /readyz', async () => {
    const config = loadConfig({
      TALLY_DATABASE_URL: join(dir, 'tally.db'),
      TALLY_PORT: '0',
      TALLY_LOG_LEVEL: 'silent',
      TALLY_EVM_RPC: `polygon=${await deadUrl()}/secret-key,${polygon.anvil.url}`,
      TALLY_EVM_POLL_MS: '50',
    });
    expect(redactedConfig(config).evmRpc).not.toContain('secret-key');
    const gateway = await startGateway(config);
    try {
      let ready: { status: string; chains: Array<Record<string, unknown>> } | undefined;
      for (let i = 0; i < 200; i++) {
        ready = (await (await fetch(`${gateway.url}/readyz`)).json()) as typeof ready;
        if (ready?.status === 'ready') break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const tip = Number(BigInt(await polygon.rpc.call<string>('eth_blockNumber')));
      expect(ready).toMatchObject({
        status: 'ready',
        chains: [{ network: 'polygon', state: 'synced', node_height: tip, cursor_height: tip }],
      });
    } finally {
      await gateway.stop();
    }
  }, 30_000);

  it('refuses a configuration that cannot work, naming the variable', () => {
    expect(() => loadConfig({ TALLY_EVM_RPC: 'bitcoin=http://127.0.0.1:1' })).toThrow(
      /TALLY_EVM_RPC: "bitcoin"/,
    );
    expect(() => loadConfig({ TALLY_EVM_RPC: 'polygon=ftp://x' })).toThrow(/TALLY_EVM_RPC: polygon needs/);
    expect(() => loadConfig({ TALLY_EVM_RPC: 'polygon=http://a;polygon=http://b' })).toThrow(/listed twice/);
    expect(() => loadConfig({ TALLY_DEVNET: 'sometimes' })).toThrow(/TALLY_DEVNET/);
    expect(loadConfig({ TALLY_EVM_RPC: 'polygon=http://a,http://b; base=https://c' }).evmRpc).toContain(
      'base=',
    );
  });
});
