import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_ACCOUNTS, mint, transferToken } from '../../src/dev/evm-tools.ts';
import { DATABASES } from '../helpers/databases.ts';
import { type EvmChain, type EvmHarness, evmHarness, startEvmChain } from '../helpers/evm-e2e.ts';

/**
 * SCENARIOS.md 20: `anvil_reorg` replaces the last blocks with empty ones, so the paying transfer
 * is gone from the chain and from the node. The watcher sees its stored hashes no longer match,
 * rolls the payment back, and the invoice moves back with events, never left paid.
 */
let chain: EvmChain;
beforeAll(async () => {
  chain = await startEvmChain('evm-devnet');
  await mint(chain.rpc, chain.tokens.USDC as string, DEV_ACCOUNTS.customer, 1_000_000_000n);
  await mint(chain.rpc, chain.tokens.USDC as string, DEV_ACCOUNTS.deployer, 1_000_000_000n);
  await chain.mine(10); // keep the mint out of reach of the reorgs below
}, 60_000);
afterAll(async () => chain?.stop());

describe.each(DATABASES)('EVM reorgs against anvil ($name)', ({ fresh }) => {
  let h: EvmHarness;
  beforeAll(async () => {
    h = await evmHarness(await fresh(), [chain]);
  }, 60_000);
  afterAll(async () => h?.close());

  it('20: a reorg removes the paying transfer → payment reverted, invoice back to awaiting_payment', async () => {
    const inv = await h.invoice('USDC', 'evm-devnet', '5', {
      value_currency: 'USDC',
      confirmation_tiers: { 'evm-devnet': [{ max_value: null, confirmations: 2 }] },
    });
    const sent = await transferToken(
      chain.rpc,
      chain.tokens.USDC as string,
      DEV_ACCOUNTS.customer,
      inv.address,
      inv.due,
    );
    await chain.mine(1);
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('paid');

    await chain.rpc.call('anvil_reorg', [3, []]); // the payment's block and the two after it
    await h.sync();
    const body = await h.get(inv.id);
    expect(body.status).toBe('awaiting_payment');
    expect(body.payments[0]).toMatchObject({
      txid: sent.hash,
      removed: true,
      removed_reason: 'dropped',
      confirmations: 0,
      block_hash: null,
    });
    const types = await h.eventTypes(inv.id);
    expect(types).toEqual(
      expect.arrayContaining(['payment.reorged', 'payment.replaced', 'invoice.awaiting_payment']),
    );
    expect((await h.exceptions(inv.id)).map((e) => e.kind)).toContain('reorg_after_paid');
  });

  it('a reorg that re-mines the transfer in another block keeps one payment, now in the new block', async () => {
    const inv = await h.invoice('USDC', 'evm-devnet', '3', {
      value_currency: 'USDC',
      confirmation_tiers: { 'evm-devnet': [{ max_value: null, confirmations: 3 }] },
    });
    // A signed transaction (from an anvil default account, whose key anvil holds) can be mined
    // again, byte for byte, in the new branch.
    const raw = await chain.rpc.call<`0x${string}`>('eth_signTransaction', [
      {
        from: DEV_ACCOUNTS.deployer,
        to: chain.tokens.USDC,
        data: `0xa9059cbb${inv.address.slice(2).toLowerCase().padStart(64, '0')}${inv.due.toString(16).padStart(64, '0')}`,
        gas: '0x30000',
        nonce: await chain.rpc.call('eth_getTransactionCount', [DEV_ACCOUNTS.deployer, 'latest']),
        maxFeePerGas: '0x77359400',
        maxPriorityFeePerGas: '0x1',
        chainId: '0x7a69',
      },
    ]);
    const hash = await chain.rpc.call<string>('eth_sendRawTransaction', [raw]);
    await chain.mine(1);
    await h.sync();
    const before = (await h.get(inv.id)).payments[0];
    expect(before.txid).toBe(hash);
    // Replace the last 2 blocks; the same signed transaction is mined again in the new branch.
    await chain.rpc.call('anvil_reorg', [2, [[raw, 1]]]);
    await h.sync();
    const after = await h.get(inv.id);
    expect(after.payments).toHaveLength(1);
    expect(after.payments[0].txid).toBe(hash);
    expect(after.payments[0].removed).toBe(false);
    expect(after.payments[0].block_hash).not.toBe(before.block_hash);
    expect(after.payments[0].credited).toBe(true);
    expect(await h.eventTypes(inv.id)).toContain('payment.reorged');
  });
});
