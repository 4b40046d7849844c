import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payInvoiceOnDevnet } from '../../src/dev/pay-invoice.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * Without btcd the devnet has no Bitcoin chain, so a regtest-only invoice cannot be paid from it:
 * the refusal says why and how to get one, not only that no option is payable.
 */
describe.each(DATABASES.slice(0, 1))('dev pay without btcd on $name', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh());
  });
  afterAll(async () => h?.close());

  it('names btcd and its install script when a Bitcoin regtest option cannot be paid', async () => {
    const inv = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '1', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      },
    });
    const dev = { ...h.tally, config: { ...h.tally.config, mode: 'dev' as const } };
    const refusal = payInvoiceOnDevnet(dev, {
      invoiceId: inv.body.id,
      rpcUrl: 'http://127.0.0.1:9',
      bitcoinRpcUrl: null,
    });
    await expect(refusal).rejects.toMatchObject({ code: 'invalid_state' });
    await expect(refusal).rejects.toThrow(
      /no Bitcoin regtest chain: install btcd \(bash scripts\/install-btcd\.sh\)/,
    );
  });
});
