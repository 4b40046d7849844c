import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { recordPayment } from '../helpers/record-payment.ts';

/**
 * The customer refund link's token is a credential shown once: the refunds table keeps only its
 * hash, and a replay of the same Idempotency-Key answers the refund with the token null (as an API
 * key's creation does), so no plaintext copy sits in the idempotency table.
 */
describe.each(DATABASES)('refund link token at rest on $name', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh());
  });
  afterAll(async () => h?.close());

  async function paidInvoice(): Promise<string> {
    const created = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '0.001', currency: 'BTC' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      },
    });
    await recordPayment(h, created.body.id, created.body.payment_options[0]);
    return created.body.id as string;
  }

  /** Every row of every table, as text: where a plaintext token would show if it were stored. */
  async function everyRow(): Promise<string> {
    const db = h.tally.database.db;
    const tables =
      h.tally.database.dialect === 'sqlite'
        ? (
            await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)
          ).rows.map((r) => r.name)
        : (
            await sql<{
              name: string;
            }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(
              db,
            )
          ).rows.map((r) => r.name);
    expect(tables).toContain('idempotency_keys');
    let text = '';
    for (const table of tables) {
      const rows = await sql`select * from ${sql.table(table)}`.execute(db);
      text += JSON.stringify(rows.rows, (_k, v) =>
        typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString() : v,
      );
    }
    return text;
  }

  it('a replayed refund request answers customer_link_token null and no table holds the token', async () => {
    const invoiceId = await paidInvoice();
    const send = () =>
      h.request('POST', `/v1/invoices/${invoiceId}/refunds`, {
        headers: { 'idempotency-key': 'refund-link-1' },
        body: { kind: 'partial', amount: '0.0001', customer_link: true, reason: 'link refund' },
      });
    const first = await send();
    expect(first.status).toBe(201);
    const token = first.body.customer_link_token as string;
    expect(token).toMatch(/^rfl_[0-9a-z]{26}$/);

    const replay = await send();
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual({ ...first.body, customer_link_token: null });

    expect(await everyRow()).not.toContain(token);
    // Only one refund was recorded, and the token shown the first time still works.
    const listed = await h.request('GET', `/v1/refunds?invoice_id=${invoiceId}`);
    expect(listed.body.data).toHaveLength(1);
    const page = await h.request('GET', `/refund/${token}`, { token: null });
    expect(page.status).toBe(200);
  });
});
