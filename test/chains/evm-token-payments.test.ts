import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEV_ACCOUNTS,
  deployForwarder,
  forwardTokens,
  mint,
  transferToken,
} from '../../src/dev/evm-tools.ts';
import { DATABASES } from '../helpers/databases.ts';
import { type EvmChain, type EvmHarness, evmHarness, startEvmChain } from '../helpers/evm-e2e.ts';

/**
 * SCENARIOS.md 15 and 19 end to end: a real anvil with chain id 137 and test USDC at Polygon's USDC
 * address, real ERC-20 transfers, the watcher reading the node, the outcome read through the API.
 */
let polygon: EvmChain;
let forwarder: string;
beforeAll(async () => {
  polygon = await startEvmChain('polygon');
  forwarder = await deployForwarder(polygon.rpc);
  await mint(polygon.rpc, polygon.tokens.USDC as string, DEV_ACCOUNTS.customer, 1_000_000_000n);
  await mint(polygon.rpc, polygon.tokens.USDC as string, forwarder, 1_000_000_000n);
}, 60_000);
afterAll(async () => polygon?.stop());

describe.each(DATABASES)('EVM token payments against anvil ($name)', ({ fresh }) => {
  let h: EvmHarness;
  beforeAll(async () => {
    h = await evmHarness(await fresh(), [polygon]);
  }, 60_000);
  afterAll(async () => h?.close());

  it("15: USDC on Polygon, exact amount → paid only after the network's 64 blocks", async () => {
    const inv = await h.invoice('USDC', 'polygon', '25.00');
    expect(inv.due).toBe(25_000_000n);
    const body0 = await h.get(inv.id);
    expect(body0.payment_options[0].required_confirmations).toBe(64);
    expect(body0.payment_options[0].payment_uri).toBe(
      `ethereum:0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359@137/transfer?address=${inv.address}&uint256=25000000`,
    );
    const sent = await transferToken(
      polygon.rpc,
      polygon.tokens.USDC as string,
      DEV_ACCOUNTS.customer,
      inv.address,
      inv.due,
    );
    await h.sync();
    let body = await h.get(inv.id);
    expect(body.status).toBe('confirming');
    expect(body.payments).toHaveLength(1);
    expect(body.payments[0]).toMatchObject({
      txid: sent.hash,
      amount: '25',
      amount_base_units: '25000000',
      asset: 'USDC',
      network: 'polygon',
      confirmations: 1,
      credited: true,
      misdirected: null,
    });
    await polygon.mine(62); // 63 deep: one short
    await h.sync();
    body = await h.get(inv.id);
    expect(body.status).toBe('confirming');
    expect(body.payments[0].confirmations).toBe(63);
    await polygon.mine(1);
    await h.sync();
    body = await h.get(inv.id);
    expect(body.status).toBe('paid');
    expect(body.payments[0].confirmations).toBe(64);
    const types = await h.eventTypes(inv.id);
    for (const t of ['invoice.confirming', 'invoice.paid', 'payment.detected', 'payment.confirmed']) {
      expect(
        types.filter((x) => x === t),
        t,
      ).toHaveLength(1);
    }
  });

  it('19: tokens paid out by a contract in one transaction pay two invoices, one log each', async () => {
    const policy = {
      confirmation_tiers: { polygon: [{ max_value: null, confirmations: 1 }] },
      value_currency: 'USDC',
    };
    const a = await h.invoice('USDC', 'polygon', '10', policy);
    const b = await h.invoice('USDC', 'polygon', '7.5', policy);
    const sent = await forwardTokens(polygon.rpc, forwarder, polygon.tokens.USDC as string, [
      { to: a.address, amount: a.due },
      { to: b.address, amount: b.due },
    ]);
    await h.sync();
    const [bodyA, bodyB] = [await h.get(a.id), await h.get(b.id)];
    expect(bodyA.status).toBe('paid');
    expect(bodyB.status).toBe('paid');
    // Same transaction, told apart by log index (stored as the payment's output index).
    expect(bodyA.payments[0].txid).toBe(sent.hash);
    expect(bodyB.payments[0].txid).toBe(sent.hash);
    expect(bodyA.payments[0].output_index).not.toBe(bodyB.payments[0].output_index);
    // Each invoice credited with exactly its own transfer.
    expect(bodyA.payments[0].amount).toBe('10');
    expect(BigInt(bodyA.payments[0].amount_base_units)).toBe(a.due);
    expect(bodyB.payments[0].amount).toBe('7.5');
    expect(BigInt(bodyB.payments[0].amount_base_units)).toBe(b.due);
    // Syncing again records nothing twice.
    await polygon.mine(1);
    await h.sync();
    expect((await h.get(a.id)).payments).toHaveLength(1);
  });
});
