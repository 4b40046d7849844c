import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSqlite } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/** Every key of a JSON value, nested ones included. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
}

describe('GET /v1/assets', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await freshSqlite());
  });
  afterAll(async () => h?.close());

  it('lists the registry in the API snake_case, every field present, without a key', async () => {
    const res = await h.request('GET', '/v1/assets', { token: null });
    expect(res.status).toBe(200);
    expect(keysOf(res.body).filter((k) => !/^[a-z][a-z0-9_]*$/.test(k))).toEqual([]);
    const polygon = res.body.networks.find((n: { id: string }) => n.id === 'polygon');
    expect(polygon).toEqual({
      id: 'polygon',
      family: 'evm',
      name: expect.any(String),
      testnet: false,
      local: false,
      chain_id: 137,
      block_time_seconds: expect.any(Number),
      default_confirmations: expect.any(Number),
      finality: { kind: expect.any(String), tag: expect.toBeOneOf([null, 'finalized', 'safe']) },
    });
    const btc = res.body.networks.find((n: { id: string }) => n.id === 'bitcoin');
    expect(btc).toMatchObject({ family: 'bitcoin', chain_id: null, finality: { kind: 'blocks', tag: null } });
    const usdc = res.body.assets.find(
      (a: { code: string; network: string }) => a.code === 'USDC' && a.network === 'polygon',
    );
    expect(usdc).toMatchObject({
      decimals: 6,
      contract: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
      quote_as: 'USDC',
    });
    // Every asset's network is listed.
    const networks = new Set(res.body.networks.map((n: { id: string }) => n.id));
    expect(res.body.assets.filter((a: { network: string }) => !networks.has(a.network))).toEqual([]);
  });
});
