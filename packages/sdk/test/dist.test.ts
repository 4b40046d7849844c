/**
 * The SDK ships compiled JavaScript (dist/) beside its TypeScript source, so a merchant's plain
 * Node project can import it: `exports` pointed at src/index.ts, and Node 20 refused the ".ts"
 * extension. dist/ is committed; this checks it is what the source compiles to today, and that
 * plain `node`, without a TypeScript loader, imports it and verifies a webhook.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SDK = new URL('..', import.meta.url).pathname;
const DIST = join(SDK, 'dist');
const scratch = mkdtempSync(join(tmpdir(), 'tally-sdk-dist-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('@tally/sdk compiled output', () => {
  it('is what the source compiles to (run "npm run build:sdk" after changing packages/sdk/src)', async () => {
    const fresh = join(scratch, 'dist');
    const tsc = new URL('../../../node_modules/typescript/bin/tsc', import.meta.url).pathname;
    await run(process.execPath, [tsc, '-p', join(SDK, 'tsconfig.build.json'), '--outDir', fresh]);
    const files = readdirSync(fresh).sort();
    expect(readdirSync(DIST).sort()).toEqual(files);
    for (const file of files)
      expect(readFileSync(join(DIST, file), 'utf8'), file).toBe(readFileSync(join(fresh, file), 'utf8'));
  }, 120_000);

  it('imports in plain Node through its package exports and verifies a signed webhook', async () => {
    const script = `
      import { Webhook } from 'standardwebhooks';
      const sdk = await import('@tally/sdk');
      const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
      const body = JSON.stringify({ id: 'evt_1', type: 'invoice.paid', data: {} });
      const id = 'msg_1', at = new Date();
      const signature = new Webhook(secret).sign(id, at, body);
      const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature };
      const event = sdk.verifyWebhook(secret, body, headers);
      console.log(JSON.stringify({ exports: Object.keys(sdk).sort(), type: event.type }));
    `;
    // A merchant's project: the SDK and its dependency in node_modules, as npm installs them.
    const project = join(scratch, 'shop');
    mkdirSync(join(project, 'node_modules', '@tally'), { recursive: true });
    symlinkSync(SDK, join(project, 'node_modules', '@tally', 'sdk'));
    const webhooks = new URL('../../../node_modules/standardwebhooks', import.meta.url).pathname;
    symlinkSync(webhooks, join(project, 'node_modules', 'standardwebhooks'));
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project });
    expect(JSON.parse(stdout)).toEqual({
      exports: ['OPERATIONS', 'TallyApiError', 'TallyClient', 'WebhookVerificationError', 'verifyWebhook'],
      type: 'invoice.paid',
    });
  });
});
