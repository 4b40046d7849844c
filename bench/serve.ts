/**
 * Benchmark server, run as a child process so the load generator does not share its event loop.
 * `bare`: a Fastify JSON endpoint (framework baseline). `gateway`: Tally on the given database with
 * a demo merchant, its address pool pre-filled (derivation is measured by the Bitcoin benchmark,
 * not here). Prints one JSON line {url, token} when ready.
 */
import Fastify from 'fastify';
import pino from 'pino';
import { buildApp } from '../src/api/app.ts';
import { createApiKey } from '../src/auth/api-keys.ts';
import { createMerchant } from '../src/auth/merchants.ts';
import { API_SCOPES } from '../src/auth/scopes.ts';
import { openTally } from '../src/bootstrap.ts';
import { loadConfig } from '../src/config.ts';
import { DEV_REGTEST_TPUB } from '../src/dev/dev-wallets.ts';
import { topUpAddressPool } from '../src/wallets/address-pool.ts';
import { addWallet } from '../src/wallets/wallet-service.ts';

process.on('SIGINT', () => process.exit(0));
const [mode, databaseUrl = '', poolTarget = '0', poolSize = '10'] = process.argv.slice(2);

if (mode === 'bare') {
  const app = Fastify();
  app.post('/v1/invoices', async (_req, reply) =>
    reply.status(201).send({ id: 'inv_x', status: 'awaiting_payment' }),
  );
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ url, token: '' })}\n`);
} else {
  const config = loadConfig(
    {},
    {
      databaseUrl,
      addressPoolTarget: Number(poolTarget),
      databasePoolSize: Number(poolSize),
      logLevel: 'warn',
    },
  );
  const tally = await openTally(config, { log: pino({ level: 'warn' }) });
  const merchant = await createMerchant(tally.database.db, 'Bench Store', tally.clock.now());
  const wallet = await addWallet(tally, merchant.id, { scope: 'bitcoin-regtest', xpub: DEV_REGTEST_TPUB });
  await topUpAddressPool(tally.database, wallet.id, 500);
  const key = await createApiKey(tally.database.db, merchant.id, 'bench', API_SCOPES, tally.clock.now());
  const { server } = buildApp(tally);
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ url, token: key.token })}\n`);
}
