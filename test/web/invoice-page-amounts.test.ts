import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedIn } from '../helpers/dashboard-session.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { recordPayment } from '../helpers/record-payment.ts';

/**
 * What a support agent reads on an invoice page: every amount with its asset (an invoice offering
 * BTC and USDC is paid in one of them, and "0.5" alone says neither), and the dashboard user who
 * moved the invoice by email, not by user id.
 */
for (const { name, fresh } of DATABASES) {
  describe(`dashboard invoice page amounts and actors (${name})`, () => {
    let h: Harness;
    let owner: Awaited<ReturnType<typeof signedIn>>;
    beforeAll(async () => {
      h = await createHarness(await fresh());
      owner = await signedIn(h, 'owner@amounts.test', 'owner');
    });
    afterAll(async () => h?.close());

    const create = async () => {
      const inv = await h.request('POST', '/v1/invoices', {
        body: {
          price: { amount: '40.00', currency: 'USD' },
          payment_options: [
            { asset: 'BTC', network: 'bitcoin-regtest' },
            { asset: 'USDC', network: 'evm-devnet' },
          ],
        },
      });
      expect(inv.status).toBe(201);
      return inv.body;
    };
    const totals = async (id: string) =>
      /<td id="invoice-totals">([^<]*)<\/td>/.exec((await owner.get(`/dashboard/invoices/${id}`)).body)?.[1];

    it('states each option due, and totals in the paid option’s asset', async () => {
      const inv = await create();
      const [btc, usdc] = inv.payment_options;
      const page = (await owner.get(`/dashboard/invoices/${inv.id}`)).body;
      expect(page).toContain(`${btc.amount_due} BTC`);
      expect(page).toContain(`${usdc.amount_due} USDC`);
      // Nothing paid: no option is selected, so there is no asset to state a total in.
      expect(await totals(inv.id)).toBe('Nothing received on any option yet');

      const half = BigInt(usdc.amount_due_base_units) / 2n;
      await recordPayment(h, inv.id, usdc, { amount: half, txid: `0x${'1'.repeat(64)}` });
      const after = (await h.request('GET', `/v1/invoices/${inv.id}`)).body;
      expect(after.selected_option_id).toBe(usdc.id);
      expect(await totals(inv.id)).toBe(
        `${after.amount_paid} / ${after.amount_pending} / ${after.shortfall} USDC`,
      );
      expect(after.shortfall).not.toBe('0');
    });

    it('names the dashboard user who marked the invoice failed by email', async () => {
      const inv = await create();
      const res = await h.app.server.inject({
        method: 'POST',
        url: `/dashboard/invoices/${inv.id}/actions`,
        headers: { cookie: owner.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          action: 'mark_failed',
          reason: 'customer asked to cancel',
          _csrf: owner.csrf,
        }).toString(),
      });
      expect(res.statusCode, res.body.slice(0, 200)).toBe(303);
      const page = (await owner.get(`/dashboard/invoices/${inv.id}`)).body;
      const history = /<ol id="transitions">([\s\S]*?)<\/ol>/.exec(page)?.[1] ?? '';
      expect(history).toContain('<strong>failed</strong>');
      expect(history).toContain('by owner@amounts.test');
      expect(history).not.toMatch(/by user usr_/);
    });
  });
}
