import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_ACCOUNTS, sendNative } from '../../src/dev/evm-tools.ts';
import { DATABASES } from '../helpers/databases.ts';
import { type EvmChain, type EvmHarness, evmHarness, startEvmChain } from '../helpers/evm-e2e.ts';

/**
 * SCENARIOS.md 18: native ETH on an anvil with Ethereum's chain id. Ethereum's rule is the
 * `finalized` tag, which this anvil puts 4 blocks below the tip: the payment is paid when the tag
 * covers its block, neither earlier (12 blocks are not reached, the tag decides) nor later.
 */
let ethereum: EvmChain;
beforeAll(async () => {
  ethereum = await startEvmChain('ethereum');
}, 60_000);
afterAll(async () => ethereum?.stop());

describe.each(DATABASES)('native ETH and the finalized tag ($name)', ({ fresh }) => {
  let h: EvmHarness;
  beforeAll(async () => {
    h = await evmHarness(await fresh(), [ethereum]);
  }, 60_000);
  afterAll(async () => h?.close());

  it('18: native ETH → paid once the finalized tag covers the block', async () => {
    const inv = await h.invoice('ETH', 'ethereum', '0.5');
    expect(inv.due).toBe(500_000_000_000_000_000n);
    expect((await h.get(inv.id)).payment_options[0].payment_uri).toBe(
      `ethereum:${inv.address}@1?value=500000000000000000`,
    );
    const sent = await sendNative(ethereum.rpc, DEV_ACCOUNTS.customer, inv.address, inv.due);
    await ethereum.mine(3); // 4 deep, finalized = tip - 4: not yet final
    await h.sync();
    let body = await h.get(inv.id);
    expect(body.status).toBe('confirming');
    expect(body.payments[0]).toMatchObject({
      txid: sent.hash,
      output_index: -1,
      amount: '0.5',
      asset: 'ETH',
    });
    expect(body.payments[0].confirmations).toBe(4);
    await ethereum.mine(1); // the tag now reaches the block
    await h.sync();
    body = await h.get(inv.id);
    expect(body.status).toBe('paid');
    expect(body.payments[0].confirmations).toBe(12);
  });

  it('a merchant tier below the network default counts plain depth, without waiting for the tag', async () => {
    const inv = await h.invoice('ETH', 'ethereum', '0.01', {
      value_currency: 'ETH',
      confirmation_tiers: { ethereum: [{ max_value: null, confirmations: 2 }] },
    });
    await sendNative(ethereum.rpc, DEV_ACCOUNTS.customer, inv.address, inv.due);
    await ethereum.mine(1);
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('paid');
  });
});
