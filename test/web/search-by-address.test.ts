/**
 * Support's search finds an invoice by the address it was given, on both databases, through the
 * address pool's index (migration 0017 moved it off `payment_options`, decision 0018), and only
 * within the merchant searching.
 */
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoicesWithAddress, searchInvoices } from '../../src/web/dashboard/search.ts';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { recordPayment } from '../helpers/record-payment.ts';

interface IndexRow {
  name: string;
  table: string;
}

for (const { name, fresh } of DATABASES) {
  describe(`search by address (${name})`, () => {
    let h: Harness;
    let bitcoin: { id: string; address: string; optionId: string };
    let evm: { id: string; address: string; optionId: string };
    beforeAll(async () => {
      h = await createHarness(await fresh());
      const create = async (asset: string, network: string) => {
        const created = await h.request('POST', '/v1/invoices', {
          body: { price: { amount: '1.00', currency: 'USD' }, payment_options: [{ asset, network }] },
        });
        expect(created.status).toBe(201);
        const option = created.body.payment_options[0];
        return {
          id: created.body.id as string,
          address: option.address as string,
          optionId: option.id as string,
        };
      };
      // Two invoices each, so a search must pick the right one, not the only one.
      bitcoin = await create('BTC', 'bitcoin-regtest');
      await create('BTC', 'bitcoin-regtest');
      evm = await create('USDC', 'polygon');
      await create('USDC', 'polygon');
    }, 60_000);
    afterAll(async () => h?.close());

    it('finds a Bitcoin invoice by its address', async () => {
      const found = await searchInvoices(h.tally, h.merchantId, ` ${bitcoin.address} `);
      expect(found.map((r) => r.id)).toEqual([bitcoin.id]);
    });

    it('finds an EVM invoice by its address in lower case and checksummed', async () => {
      expect(evm.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
      for (const spelling of [evm.address.toLowerCase(), evm.address]) {
        const found = await searchInvoices(h.tally, h.merchantId, spelling);
        expect(found.map((r) => r.id)).toEqual([evm.id]);
      }
    });

    it('finds an invoice by a pasted id in upper case, an EVM address without 0x, and a hash with or without 0x', async () => {
      const ids = async (q: string) => (await searchInvoices(h.tally, h.merchantId, q)).map((r) => r.id);
      expect(await ids(bitcoin.id.toUpperCase())).toEqual([bitcoin.id]);
      expect(await ids(evm.address.slice(2))).toEqual([evm.id]);
      expect(await ids(evm.address.slice(2).toUpperCase())).toEqual([evm.id]);
      const pay = (invoice: typeof evm, txid: string) =>
        recordPayment(
          h,
          invoice.id,
          { id: invoice.optionId, amount_due_base_units: '1' },
          { txid, confirmations: 0 },
        );
      const evmHash = `0x${'ab12'.repeat(16)}`;
      const btcTxid = 'cd34'.repeat(16);
      await pay(evm, evmHash);
      await pay(bitcoin, btcTxid);
      // An explorer or wallet may show either hash with or without 0x, and in either case.
      for (const q of [evmHash, evmHash.slice(2), evmHash.slice(2).toUpperCase()])
        expect(await ids(q)).toEqual([evm.id]);
      for (const q of [btcTxid, `0x${btcTxid}`, btcTxid.toUpperCase()])
        expect(await ids(q)).toEqual([bitcoin.id]);
    });

    it('finds nothing for another merchant, in the address lookup itself', async () => {
      const other = await h.newMerchant('Other Store');
      expect(await searchInvoices(h.tally, other.merchantId, bitcoin.address)).toEqual([]);
      // The lookup alone, not only the search's final read of the merchant's invoices, keeps to the
      // merchant: the address is in the pool, handed to the first merchant's option.
      expect(
        await invoicesWithAddress(h.tally.database.read, h.merchantId, [bitcoin.address]).execute(),
      ).toEqual([{ id: bitcoin.id }]);
      expect(
        await invoicesWithAddress(h.tally.database.read, other.merchantId, [bitcoin.address]).execute(),
      ).toEqual([]);
    });

    it('keeps the address index on the pool, not on payment options', async () => {
      const indexes =
        name === 'sqlite'
          ? sql<IndexRow>`select name, tbl_name as "table" from sqlite_master where type = 'index'`
          : sql<IndexRow>`select indexname as name, tablename as "table" from pg_indexes`;
      const rows = (await indexes.execute(h.tally.database.read)).rows;
      expect(rows).toContainEqual({ name: 'wallet_addresses_address', table: 'wallet_addresses' });
      expect(rows.map((r) => r.name)).not.toContain('payment_options_address');
    });

    if (name === 'sqlite')
      it('looks the address up through the index, never scanning the pool', () => {
        const query = invoicesWithAddress(h.tally.database.read, h.merchantId, [bitcoin.address]).compile();
        const connection = new SQLite(h.tally.config.databaseUrl, { readonly: true });
        try {
          const plan = (
            connection.prepare(`explain query plan ${query.sql}`).all(...query.parameters) as Array<{
              detail: string;
            }>
          )
            .map((s) => s.detail)
            .join('; ');
          expect(plan).toMatch(/wa USING INDEX wallet_addresses_address/);
          expect(plan).not.toMatch(/SCAN wa/);
        } finally {
          connection.close();
        }
      });
  });
}
