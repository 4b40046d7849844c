/**
 * kill -9 of the gateway process in the middle of a burst of deliveries: after a restart every
 * event is delivered at least once. The gateway runs as a real child process (`tally start`) on a
 * SQLite file; nothing of the delivery state lives in memory, and deliveries that were in flight
 * when the process died become due again when their lease runs out.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { createMerchant } from '../../src/auth/merchants.ts';
import { openTally } from '../../src/bootstrap.ts';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/connect.ts';
import { eventRow } from '../../src/invoices/effect-rows.ts';
import { createEndpoint } from '../../src/webhooks/endpoint-service.ts';
import { TestReceiver } from './helpers/receiver.ts';

const EVENTS = 300;

async function until(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('gateway killed with SIGKILL during a delivery burst', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-crash-'));
  const dbUrl = join(dir, 'tally.db');
  let child: ChildProcess | null = null;
  let receiver: TestReceiver | null = null;
  afterEach(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await receiver?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = {
    ...process.env,
    TALLY_DATABASE_URL: dbUrl,
    TALLY_PORT: '0',
    TALLY_LOG_LEVEL: 'silent',
    TALLY_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1',
    // Short timeout: the lease of deliveries in flight at the kill is 2 × timeout + 5 s.
    TALLY_WEBHOOK_TIMEOUT_MS: '500',
  };
  async function startGateway(): Promise<ChildProcess> {
    const c = spawn(process.execPath, ['bin/tally.js', 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for await (const line of createInterface({ input: c.stdout! }))
      if (line.includes('Tally listening')) break;
    return c;
  }

  it('delivers every event at least once after the restart', async () => {
    receiver = await new TestReceiver().start();
    receiver.answer = () => ({ status: 200, delayMs: 5 });
    const tally = await openTally(loadConfig(env), { log: pino({ level: 'silent' }) });
    const merchant = await createMerchant(tally.database.db, 'Crash Store', new Date());
    await createApiKey(tally.database.db, merchant.id, 'k', ['admin'], new Date()); // no demo seeding
    const endpoint = await createEndpoint(tally, merchant.id, { url: receiver.url });
    receiver.secret = endpoint.secret;
    const rows = Array.from({ length: EVENTS }, (_, i) =>
      eventRow(merchant.id, null, 'webhook.burst', 0, { n: i }, new Date()),
    );
    await tally.database.write((trx) => trx.insertInto('events').values(rows).execute());
    await tally.database.close();

    child = await startGateway();
    await until(() => receiver!.received.length >= 40, 20_000);
    child.kill('SIGKILL');
    await once(child, 'exit');
    const beforeRestart = new Set(receiver.ids()).size;
    expect(beforeRestart).toBeLessThan(EVENTS); // killed mid-burst, not after

    child = await startGateway();
    await until(() => new Set(receiver!.ids()).size >= EVENTS, 30_000);
    // Those in flight at the kill reached the receiver but were never recorded: they are sent
    // again once their lease runs out (same webhook-id; the receiver dedupes).
    const db = openDatabase({ url: dbUrl });
    let open = EVENTS;
    const deadline = Date.now() + 30_000;
    while (open > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      const row = await db.db
        .selectFrom('webhook_deliveries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '!=', 'succeeded')
        .executeTakeFirstOrThrow();
      open = Number(row.n);
    }
    await db.close();
    child.kill('SIGTERM');
    await once(child, 'exit');

    expect(new Set(receiver.ids())).toEqual(new Set(rows.map((r) => r.id)));
    expect(receiver.received.filter((r) => r.verifyError !== null).map((r) => r.verifyError)).toEqual([]);
    const reopened = await openTally(loadConfig(env), { log: pino({ level: 'silent' }) });
    const states = await reopened.database.db.selectFrom('webhook_deliveries').select(['status']).execute();
    await reopened.database.close();
    expect(states).toHaveLength(EVENTS);
    expect(states.filter((s) => s.status !== 'succeeded')).toEqual([]);
  });
});
