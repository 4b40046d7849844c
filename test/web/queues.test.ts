import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.ts';
import { iso } from '../../src/db/values.ts';
import { COUNT_CAP, invoiceQueue, PAGE_SIZE, queueCounts } from '../../src/web/dashboard/queues.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * The dashboard's invoice queues on both databases: a page merges the queue's statuses newest
 * first, the keyset cursor continues exactly where the page ended (no row twice, none lost),
 * paid-not-fulfilled leaves fulfilled invoices out, and counts stop at COUNT_CAP.
 */
for (const { name, fresh } of DATABASES) {
  describe(`dashboard queues (${name})`, () => {
    let h: Harness;
    const awaiting: string[] = [];
    beforeAll(async () => {
      h = await createHarness(await fresh());
      const created = await h.request('POST', '/v1/invoices', {
        body: {
          price: { amount: '1.00', currency: 'USD' },
          payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        },
      });
      expect(created.status).toBe(201);
      const template = await h.tally.database.db
        .selectFrom('invoices')
        .selectAll()
        .where('id', '=', created.body.id)
        .executeTakeFirstOrThrow();
      awaiting.push(template.id);
      // created / awaiting_payment interleaved (one queue), then paid, half of them fulfilled.
      const rows: Array<typeof template> = [];
      for (let i = 0; i < COUNT_CAP + 20; i++) {
        const status = i < COUNT_CAP ? (i % 2 === 0 ? 'created' : 'awaiting_payment') : 'paid';
        const at = iso(new Date(Date.parse('2026-01-01T00:00:00Z') + i * 1000));
        rows.push({
          ...template,
          id: newId('inv'),
          status,
          fulfilled_at: status === 'paid' && i % 2 === 0 ? at : null,
          created_at: at,
          updated_at: at,
        });
      }
      await h.tally.database.write(async (trx) => {
        for (let i = 0; i < rows.length; i += 500)
          await trx
            .insertInto('invoices')
            .values(rows.slice(i, i + 500))
            .execute();
      });
      for (const r of rows) if (r.status !== 'paid') awaiting.push(r.id);
      awaiting.sort().reverse();
    }, 60_000);
    afterAll(async () => h?.close());

    it('pages merge statuses newest first and the keyset cursor neither repeats nor skips', async () => {
      const first = await invoiceQueue(h.tally, h.merchantId, 'awaiting_payment');
      expect(first.map((r) => r.id)).toEqual(awaiting.slice(0, PAGE_SIZE));
      expect(new Set(first.map((r) => r.status))).toEqual(new Set(['created', 'awaiting_payment']));
      const second = await invoiceQueue(h.tally, h.merchantId, 'awaiting_payment', first.at(-1)?.id);
      expect(second.map((r) => r.id)).toEqual(awaiting.slice(PAGE_SIZE, 2 * PAGE_SIZE));
      const last = await invoiceQueue(h.tally, h.merchantId, 'awaiting_payment', awaiting.at(-3));
      expect(last.map((r) => r.id)).toEqual(awaiting.slice(-2));
    });

    it('paid-not-fulfilled leaves fulfilled invoices out; counts stop at the cap', async () => {
      const paid = await invoiceQueue(h.tally, h.merchantId, 'paid_unfulfilled');
      expect(paid).toHaveLength(10);
      expect(paid.every((r) => r.status === 'paid')).toBe(true);
      const counts = await queueCounts(h.tally, h.merchantId);
      expect(counts.paid_unfulfilled).toBe(10);
      expect(counts.awaiting_payment).toBe(COUNT_CAP + 1);
      expect(counts.detected).toBe(0);
    });
  });
}
