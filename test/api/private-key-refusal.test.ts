import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.ts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { createMerchant } from '../../src/auth/merchants.ts';
import { API_SCOPES } from '../../src/auth/scopes.ts';
import { openTally, REDACT_PATHS } from '../../src/bootstrap.ts';
import { loadConfig } from '../../src/config.ts';
import type { Tally } from '../../src/context.ts';
import { DATABASES, type TestDatabase } from '../helpers/databases.ts';

/**
 * SCENARIO 28: an extended private key pasted where an xpub belongs is refused with a clear error,
 * and the key is neither stored (in any table) nor logged (at the most verbose level).
 */
const KEYS = {
  'bitcoin-testnet':
    'tprv8ZgxMBicQKsPd7Uf69XL1XwhmjHopUGep8GuEiJDZmbQz6o58LninorQAfcKZWARbtRtfnLcJ5MQ2AtHcQJCCRUcMRvmDUjyEmNUWwx8UbK',
  bitcoin:
    'xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi',
};

describe.each(DATABASES)('a private key where an xpub belongs ($name)', ({ fresh }) => {
  let db: TestDatabase;
  let tally: Tally;
  let app: ReturnType<typeof buildApp>;
  let token: string;
  const lines: string[] = [];
  beforeAll(async () => {
    db = await fresh();
    const capture = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = pino({ level: 'trace', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, capture);
    tally = await openTally(loadConfig({}, { databaseUrl: db.url, logLevel: 'trace' }), { log });
    app = buildApp(tally);
    const merchant = await createMerchant(tally.database.db, 'Keys Shop', new Date());
    token = (await createApiKey(tally.database.db, merchant.id, 'k', API_SCOPES, new Date())).token;
  });
  afterAll(async () => {
    await app?.server.close();
    await tally?.database.close();
    await db?.drop();
  });

  it('is refused with private_key_refused, echoed nowhere, stored in no table, logged in no line', async () => {
    for (const [scope, key] of Object.entries(KEYS)) {
      const res = await app.server.inject({
        method: 'POST',
        url: '/v1/wallets',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ scope, xpub: key }),
      });
      expect(res.statusCode, scope).toBe(422);
      const body = JSON.parse(res.body);
      expect(body.error.code).toBe('private_key_refused');
      expect(body.error.message).toMatch(/private key/);
      expect(res.body).not.toContain(key.slice(4, 40));
    }
    // Logging works in this test (a gateway at trace level logs as it serves)...
    app.server.log.warn({ probe: true }, 'probe line');
    expect(lines.some((l) => l.includes('probe line'))).toBe(true);
    // ...and no line holds any part of either key.
    for (const key of Object.values(KEYS))
      expect(lines.filter((l) => l.includes(key.slice(4, 40)) || l.includes(key.slice(-30)))).toEqual([]);
    // Every row of every table, as text: the key is in none.
    const dump = JSON.stringify(await everyRow(tally));
    expect(dump.length).toBeGreaterThan(1000); // the merchant, its key, the migrations …
    for (const key of Object.values(KEYS)) {
      expect(dump).not.toContain(key.slice(4, 40));
      expect(dump).not.toContain(key.slice(-30));
    }
  });
});

async function everyRow(tally: Tally): Promise<unknown[]> {
  const db = tally.database.db;
  const tables =
    tally.database.dialect === 'postgres'
      ? (
          await sql<{
            name: string;
          }>`select tablename as name from pg_tables where schemaname = current_schema()`.execute(db)
        ).rows
      : (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)).rows;
  const rows: unknown[] = [];
  for (const { name } of tables)
    rows.push(name, (await sql`select * from ${sql.table(name)}`.execute(db)).rows);
  return rows;
}
