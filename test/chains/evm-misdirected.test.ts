import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_ACCOUNTS, mint, transferToken } from '../../src/dev/evm-tools.ts';
import { DATABASES } from '../helpers/databases.ts';
import { type EvmChain, type EvmHarness, evmHarness, startEvmChain } from '../helpers/evm-e2e.ts';

/**
 * SCENARIOS.md 16 and 17: two anvils, one with Polygon's chain id (137) and one with Ethereum's (1),
 * each with its network's real token addresses. The same invoice address exists on both chains;
 * money that arrives on the wrong one, or in the wrong token, is recorded with its evidence and
 * opens an exception. It never pays the invoice.
 */
let polygon: EvmChain;
let ethereum: EvmChain;
beforeAll(async () => {
  [polygon, ethereum] = await Promise.all([startEvmChain('polygon'), startEvmChain('ethereum')]);
  await mint(ethereum.rpc, ethereum.tokens.USDC as string, DEV_ACCOUNTS.customer, 1_000_000_000n);
  await mint(polygon.rpc, polygon.tokens.USDT as string, DEV_ACCOUNTS.customer, 1_000_000_000n);
}, 60_000);
afterAll(async () => Promise.all([polygon?.stop(), ethereum?.stop()]));

describe.each(DATABASES)('misdirected EVM payments against two anvils ($name)', ({ fresh }) => {
  let h: EvmHarness;
  beforeAll(async () => {
    h = await evmHarness(await fresh(), [polygon, ethereum]);
  }, 60_000);
  afterAll(async () => h?.close());

  it('16: USDC sent on Ethereum for an invoice that asked for Polygon → wrong_network exception, not paid', async () => {
    const inv = await h.invoice('USDC', 'polygon', '40');
    const sent = await transferToken(
      ethereum.rpc,
      ethereum.tokens.USDC as string,
      DEV_ACCOUNTS.customer,
      inv.address,
      inv.due,
    );
    await ethereum.mine(80); // far past any depth: still never paid
    await h.sync();
    const body = await h.get(inv.id);
    expect(body.status).toBe('awaiting_payment');
    expect(body.payments).toHaveLength(1);
    expect(body.payments[0]).toMatchObject({
      txid: sent.hash,
      network: 'ethereum',
      asset: 'USDC',
      amount: '40',
      credited: false,
      settled: false,
      misdirected: 'wrong_network',
    });
    const [exception] = await h.exceptions(inv.id);
    expect(exception?.kind).toBe('wrong_network');
    expect(exception?.evidence).toMatchObject({
      chain_id: 1,
      contract: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48',
      tx_hash: sent.hash,
      amount: '40',
      amount_base_units: '40000000',
      network: 'ethereum',
      expected_network: 'polygon',
      expected_asset: 'USDC',
      block_number: sent.blockNumber,
    });
    expect(typeof exception?.evidence.log_index).toBe('number');
    const types = await h.eventTypes(inv.id);
    expect(types).toContain('exception.opened');
    expect(types.filter((t) => t.startsWith('invoice.') && t !== 'invoice.awaiting_payment')).toEqual([]);
  });

  it('17: USDT sent on Polygon where USDC was asked → wrong_asset exception, not paid', async () => {
    const inv = await h.invoice('USDC', 'polygon', '12.5');
    const sent = await transferToken(
      polygon.rpc,
      polygon.tokens.USDT as string,
      DEV_ACCOUNTS.customer,
      inv.address,
      inv.due,
    );
    await polygon.mine(70);
    await h.sync();
    const body = await h.get(inv.id);
    expect(body.status).toBe('awaiting_payment');
    expect(body.payments[0]).toMatchObject({
      network: 'polygon',
      asset: 'USDT',
      credited: false,
      misdirected: 'wrong_asset',
    });
    const [exception] = await h.exceptions(inv.id);
    expect(exception?.kind).toBe('wrong_asset');
    expect(exception?.evidence).toMatchObject({
      chain_id: 137,
      contract: '0xc2132D05D31c914a87C6611C10748AEb04B58e8F',
      tx_hash: sent.hash,
      asset: 'USDT',
      expected_asset: 'USDC',
      amount: '12.5',
      amount_base_units: '12500000',
    });
    expect((await h.eventTypes(inv.id)).filter((t) => t === 'exception.opened')).toHaveLength(1);
    // The right asset afterwards still pays the invoice: the wrong one took nothing away.
    await mint(polygon.rpc, polygon.tokens.USDC as string, DEV_ACCOUNTS.customer, inv.due);
    await transferToken(
      polygon.rpc,
      polygon.tokens.USDC as string,
      DEV_ACCOUNTS.customer,
      inv.address,
      inv.due,
    );
    await polygon.mine(63);
    await h.sync();
    expect((await h.get(inv.id)).status).toBe('paid');
  });
});
