/**
 * The money commands as an operator runs them (bin/tally.js in a child process): ledger verify,
 * reconcile without a node (books and events only), export of a period to a file with the
 * progress bar on stderr, and sweep refusing a destination of another network.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tally-money-cli-'));
const env = { ...process.env, TALLY_DATABASE_URL: join(dir, 'cli.db'), TALLY_LOG_LEVEL: 'silent' };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function tally(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/tally.js', ...args], { env });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}

describe('tally money commands', () => {
  it('verify, reconcile, export and sweep', async () => {
    expect((await tally('migrate')).code).toBe(0);
    const merchant = JSON.parse((await tally('merchant', 'create', '--name', 'Books', '--json')).out);

    const verify = await tally('ledger', 'verify', '--json');
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.out)).toMatchObject({ ok: true, unbalanced: [], mismatched: [] });

    const reconcile = await tally('reconcile', '--json');
    expect(JSON.parse(reconcile.out)).toMatchObject({ network: 'none', mismatches: [], ledger_ok: true });
    const human = await tally('reconcile');
    expect(human.out).toContain('(none, no blocks)');
    expect(human.out).toContain('No Bitcoin node configured');

    const file = join(dir, 'report.csv');
    const exported = await tally(
      'export',
      '--merchant',
      merchant.id,
      '--from',
      '2026-11-01',
      '--to',
      '2026-12-01',
      '--out',
      file,
    );
    expect(exported.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(
      /^type,time,merchant_order_id,invoice_id,invoice_status,asset,network,txid,vout,amount/,
    );
    expect(exported.err).toContain('export [');

    const bad = await tally('export', '--merchant', merchant.id, '--from', 'yesterday', '--to', '2026-12-01');
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('from: must be an ISO date');

    const sweep = await tally(
      'sweep',
      '--merchant',
      merchant.id,
      '--network',
      'bitcoin-regtest',
      '--to',
      'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq',
      '--json',
    );
    expect(sweep.code).toBe(1);
    expect(JSON.parse(sweep.out).error.details.issues[0].path).toBe('to');
  }, 60_000);
});
