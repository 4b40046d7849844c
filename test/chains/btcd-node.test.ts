import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitcoinNode } from '../../src/chains/bitcoin/bitcoin-node.ts';
import { BitcoinRpc, NodeUnavailableError } from '../../src/chains/bitcoin/rpc-client.ts';
import { bitcoinAddressDeriver } from '../../src/wallets/families.ts';
import { type Btcd, startBtcd } from '../helpers/btcd.ts';
import { freshKeys } from '../helpers/harness.ts';

/**
 * Groundwork for the Bitcoin issue: a real btcd in regtest, started per run, and the RPC client the
 * watcher will use. Blocks are mined to an address derived from a key this test holds.
 */
describe('btcd regtest node', () => {
  let node: Btcd;
  const miningAddress = bitcoinAddressDeriver(freshKeys().regtest, 'bitcoin-regtest')(0);

  beforeAll(async () => {
    node = await startBtcd(miningAddress);
  }, 60_000);
  afterAll(async () => node?.stop());

  it('mines blocks on demand and reports them', async () => {
    const before = await node.rpc.call<number>('getblockcount');
    const hashes = await node.rpc.call<string[]>('generate', [3]);
    expect(hashes).toHaveLength(3);
    expect(await node.rpc.call<number>('getblockcount')).toBe(before + 3);
    const best = await node.rpc.call<string>('getbestblockhash');
    expect(best).toBe(hashes[2]);
    const block = await node.rpc.call<{ height: number; hash: string; previousblockhash: string }>(
      'getblock',
      [best, 1],
    );
    expect(block).toMatchObject({ height: before + 3, hash: best, previousblockhash: hashes[1] });
  });

  it('pays the coinbase to the address the test controls', async () => {
    const [hash] = await node.rpc.call<string[]>('generate', [1]);
    // btcd's getblock at verbosity 2 lists transactions under `rawtx` (Bitcoin Core: `tx`).
    const block = await node.rpc.call<{
      rawtx: Array<{ vout: Array<{ scriptPubKey: { address?: string; addresses?: string[] } }> }>;
    }>('getblock', [hash, 2]);
    const outputs = block.rawtx[0]?.vout.map((v) => v.scriptPubKey.address ?? v.scriptPubKey.addresses?.[0]);
    expect(outputs).toContain(miningAddress);
  });

  it('answers a batch of calls in one request, item by item; the node reader skips transactions it lacks', async () => {
    const [hash] = await node.rpc.call<string[]>('generate', [1]);
    const block = await node.rpc.call<{ tx: string[] }>('getblock', [hash, 1]);
    const coinbase = block.tx[0] as string;
    const missing = 'ab'.repeat(32);
    const answers = await node.rpc.batch<string>('getrawtransaction', [
      [coinbase, 0],
      [missing, 0],
    ]);
    expect(answers).toHaveLength(2);
    expect('result' in answers[0]! && typeof answers[0].result).toBe('string');
    expect(answers[1]).toMatchObject({ error: expect.stringMatching(/RPC error -5/) });
    const reader = new BitcoinNode(node.rpc, 'bitcoin-regtest');
    const found = await reader.transactions([coinbase, missing]);
    expect(found.map((t) => t.txid)).toEqual([coinbase]);
    expect(found[0]?.coinbase).toBe(true);
    const decoded = await reader.block(hash as string);
    expect(decoded.transactions[0]?.txid).toBe(coinbase);
  });

  it('fails closed: a wrong password or an unreachable node is NodeUnavailableError, never a value', async () => {
    const wrong = new BitcoinRpc({ url: node.rpcUrl, user: 'tally', password: 'wrong', timeoutMs: 2_000 });
    await expect(wrong.call('getblockcount')).rejects.toBeInstanceOf(NodeUnavailableError);
    const closed = new BitcoinRpc({ url: 'http://127.0.0.1:9', user: 'x', password: 'y', timeoutMs: 2_000 });
    await expect(closed.call('getblockcount')).rejects.toBeInstanceOf(NodeUnavailableError);
    await expect(node.rpc.call('nosuchmethod')).rejects.toThrow(/RPC error/);
  });
});
