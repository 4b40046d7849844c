import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.ts';
import { applyFact } from '../../src/invoices/apply-fact.ts';
import { signedIn } from '../helpers/dashboard-session.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * Finance's CSV export reports the option an invoice was paid with, what was credited on it, and
 * how many payments were not credited: an invoice offering BTC first and paid in USDC, paid twice.
 */
for (const { name, fresh } of DATABASES) {
  describe(`finance export (${name})`, () => {
    let h: Harness;
    let finance: Awaited<ReturnType<typeof signedIn>>;
    beforeAll(async () => {
      h = await createHarness(await fresh());
      finance = await signedIn(h, 'finance@x.test', 'finance');
    });
    afterAll(async () => h?.close());

    it('names the paid option and its credited amount, and counts uncredited payments', async () => {
      const inv = await h.request('POST', '/v1/invoices', {
        body: {
          price: { amount: '40.00', currency: 'USD' },
          merchant_order_id: 'F-1',
          payment_options: [
            { asset: 'BTC', network: 'bitcoin-regtest' },
            { asset: 'USDC', network: 'evm-devnet' },
          ],
        },
      });
      expect(inv.status).toBe(201);
      const usdc = inv.body.payment_options[1];
      expect(usdc.asset).toBe('USDC');
      const pay = (n: number) =>
        applyFact(h.tally, h.merchantId, inv.body.id, {
          kind: 'payment_seen',
          id: `seen:${inv.body.id}:${n}`,
          payment: {
            paymentId: newId('pay'),
            optionId: usdc.id,
            txid: `0x${String(n).repeat(64)}`,
            outputIndex: 0,
            amount: BigInt(usdc.amount_due_base_units),
            rbf: false,
            confirmations: 100,
            blockHash: `0x${'ab'.repeat(32)}`,
            blockHeight: 100 + n,
          },
        });
      await pay(1);
      await pay(2); // the same invoice paid twice: the second is a duplicate, not credited
      expect((await h.request('GET', `/v1/invoices/${inv.body.id}`)).body.status).toBe('paid');

      const csv = await finance.get('/dashboard/export.csv');
      expect(csv.statusCode).toBe(200);
      const [header, ...rows] = csv.body.trim().split('\r\n');
      const columns = (header ?? '').split(',');
      const row = rows.find((r) => r.startsWith(inv.body.id))?.split(',') ?? [];
      const field = (name: string) => row[columns.indexOf(name)];
      expect(field('status')).toBe('paid');
      expect(field('asset')).toBe('USDC');
      expect(field('network')).toBe('evm-devnet');
      expect(field('amount_due')).toBe(usdc.amount_due);
      expect(field('amount_credited')).toBe(usdc.amount_due);
      expect(field('uncredited_payments')).toBe('1');
    });
  });
}
