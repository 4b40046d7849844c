import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createApiKey, listApiKeys, revokeApiKey } from '../auth/api-keys.ts';
import { createMerchant } from '../auth/merchants.ts';
import { API_SCOPES, type ApiScope } from '../auth/scopes.ts';
import { openTally } from '../bootstrap.ts';
import { BitcoinNode } from '../chains/bitcoin/bitcoin-node.ts';
import { BitcoinRpc } from '../chains/bitcoin/rpc-client.ts';
import { loadConfig } from '../config.ts';
import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';
import { migrate } from '../db/migrate.ts';
import { type DevnetState, devnetStatePath } from '../dev/devnet.ts';
import { payInvoiceOnDevnet } from '../dev/pay-invoice.ts';
import { createInvoice } from '../invoices/create-invoice.ts';
import { getInvoice } from '../invoices/invoice-queries.ts';
import { startGateway } from '../server.ts';
import {
  loadRescanWallet,
  MAX_RESCAN_ADDRESSES,
  type RescanReport,
  rescanWallet,
} from '../wallets/rescan.ts';
import { addWallet } from '../wallets/wallet-service.ts';
import { DASHBOARD_USAGE, dashboardCommand } from './dashboard-commands.ts';
import { invoiceSummary } from './invoice-summary.ts';
import { existingMerchant } from './merchant-flag.ts';
import { MONEY_USAGE, runMoneyCommand } from './money-commands.ts';
import { type ProgressStream, progressBar } from './progress.ts';

const USAGE = `tally — self-hosted, non-custodial crypto payment gateway

  tally start                          start the gateway (TALLY_* environment configures it)
  tally dev                            start in dev mode (demo merchant, fixed rates)
  tally migrate                        apply pending database migrations
  tally merchant create --name NAME
  tally merchant list
  tally apikey create --merchant MER --name NAME [--scopes a,b]
  tally apikey revoke --merchant MER --key KEY
  tally wallet add --merchant MER --scope SCOPE --xpub XPUB [--script-type p2wpkh|p2tr|p2sh-p2wpkh] [--label L]
                   [--master-fingerprint d34db33f --account-path "m/84'/0'/0'"]  (Bitcoin key origin for PSBTs)
  tally wallet rescan --wallet WAL --from N --to M [--from-height H]
                                       derive the wallet's receive addresses N..M and read every
                                       block from height H (default 0) to the node's tip for funds
                                       sent to them (at most ${MAX_RESCAN_ADDRESSES.toLocaleString('en')} addresses). Report only:
                                       writes nothing. Needs TALLY_BITCOIN_RPC_URL (_USER, _PASSWORD)
                                       and TALLY_BITCOIN_NETWORK; progress goes to stderr
  tally invoice create --merchant MER --amount 10.00 --currency USD [--option ASSET/NETWORK]
                                       --option is repeatable: BTC/bitcoin-regtest, USDC/evm-devnet…
  tally invoice show --merchant MER --invoice INV
  tally dev pay --invoice INV [--option OPT]
                                       dev mode only: pay the invoice's devnet option in full from
                                       the local devnet's test customer (needs \`tally start\` running)
${DASHBOARD_USAGE}

${MONEY_USAGE}

Add --json for machine-readable output.`;

type Flags = Record<string, string | boolean | undefined>;

function needIndex(flags: Flags, name: string, fallback?: number): number {
  const v = flags[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string' || !/^[0-9]{1,15}$/.test(v))
    throw new TallyError('validation_failed', `--${name} must be a non-negative integer.`);
  return Number(v);
}

function rescanText(r: RescanReport): string {
  const lines = r.addresses.map(
    (a) =>
      `  #${a.index}  ${a.address}  ${a.received} BTC  ${a.allocated ? `invoice ${a.invoice_id}` : 'never allocated'}\n${a.txids.map((t) => `      ${t}`).join('\n')}`,
  );
  return [
    `Wallet ${r.wallet_id} (${r.network}, ${r.script_type}): indexes ${r.index_from}..${r.index_to}, blocks ${r.height_from}..${r.height_to} (${r.blocks_scanned} read)`,
    ...lines,
    `${r.addresses_with_funds} of ${r.addresses_scanned} addresses received funds, ${r.total_received} BTC in total; ${r.unallocated_with_funds} never allocated to an invoice. Nothing was written.`,
  ].join('\n');
}

/** The node URLs a running `tally start` wrote for its devnet; nulls when none runs. */
function runningDevnet(tally: Tally): { rpcUrl: string | null; bitcoinRpcUrl: string | null } {
  try {
    const state = JSON.parse(readFileSync(devnetStatePath(tally.config), 'utf8')) as Partial<DevnetState>;
    return { rpcUrl: state.rpcUrl ?? null, bitcoinRpcUrl: state.bitcoinRpcUrl ?? null };
  } catch {
    return { rpcUrl: null, bitcoinRpcUrl: null };
  }
}

/** `--option ASSET/NETWORK` (e.g. USDC/evm-devnet): both parts, one slash, in any letter case. */
function parseOptionFlag(text: string): { asset: string; network: string } {
  const [asset, network, ...rest] = text.split('/');
  if (!asset || !network || rest.length > 0) {
    const message = 'must be ASSET/NETWORK, such as USDC/evm-devnet or BTC/bitcoin-regtest';
    throw new TallyError('validation_failed', `--option "${text}" ${message}.`, {
      issues: [{ path: 'option', message }],
    });
  }
  // People type `usdc/evm-devnet`; the registry's asset codes are upper case, its networks lower.
  return { asset: asset.toUpperCase(), network: network.toLowerCase() };
}

function need(flags: Flags, name: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v === '') throw new TallyError('validation_failed', `--${name} is required.`);
  return v;
}

async function withTally<T>(fn: (tally: Tally) => Promise<T>): Promise<T> {
  const tally = await openTally(loadConfig(), {});
  try {
    return await fn(tally);
  } finally {
    await tally.database.close();
  }
}

/** The command line's flags; node:util throws for an unknown flag or one missing its value. */
function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      help: { type: 'boolean' },
      name: { type: 'string' },
      merchant: { type: 'string' },
      scopes: { type: 'string' },
      key: { type: 'string' },
      scope: { type: 'string' },
      xpub: { type: 'string' },
      'script-type': { type: 'string' },
      'master-fingerprint': { type: 'string' },
      'account-path': { type: 'string' },
      label: { type: 'string' },
      amount: { type: 'string' },
      currency: { type: 'string' },
      option: { type: 'string', multiple: true },
      invoice: { type: 'string' },
      'order-id': { type: 'string' },
      wallet: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'from-height': { type: 'string' },
      network: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      cutoff: { type: 'string' },
      'fee-rate': { type: 'string' },
      email: { type: 'string' },
      role: { type: 'string' },
      'password-stdin': { type: 'boolean' },
    },
  });
}

export async function main(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
  progress: ProgressStream = process.stderr,
): Promise<number> {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (error) {
    // node:util's own errors (an unknown or misspelt flag, a flag missing its value) carry a code
    // and a message meant for people; anything else is a bug and keeps its stack.
    if (!(error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw error;
    const message = `${(error as Error).message.split('\n')[0]} Run "tally help" for the commands and their flags.`;
    if (argv.includes('--json'))
      out(JSON.stringify({ error: { code: 'validation_failed', message } }, null, 2));
    else out(`error (validation_failed): ${message}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const flags = values as Flags & { option?: string[] };
  const print = (human: string, data: unknown) => out(flags.json ? JSON.stringify(data, null, 2) : human);
  const command = positionals.join(' ');
  try {
    switch (command) {
      case '':
      case 'help':
        out(USAGE);
        return 0;
      case 'start':
      case 'dev': {
        const config = loadConfig(process.env, command === 'dev' ? { mode: 'dev' } : {});
        const gateway = await startGateway(config);
        const stop = async () => {
          await gateway.stop();
          process.exit(0);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        await new Promise(() => {});
        return 0;
      }
      case 'migrate': {
        const applied = await withTally(async (t) => migrate(t.database));
        print(applied.length ? `Applied: ${applied.join(', ')}` : 'Up to date.', { applied });
        return 0;
      }
      case 'merchant create': {
        const m = await withTally((t) => createMerchant(t.database.db, need(flags, 'name'), t.clock.now()));
        print(`Created merchant ${m.id}`, { id: m.id, name: m.name });
        return 0;
      }
      case 'merchant list': {
        const merchants = await withTally((t) =>
          t.database.db.selectFrom('merchants').select(['id', 'name', 'created_at']).orderBy('id').execute(),
        );
        const data = merchants.map((m) => ({
          id: m.id,
          name: m.name,
          created_at: new Date(m.created_at).toISOString(),
        }));
        print(data.map((m) => `${m.id}  ${m.name}`).join('\n') || 'No merchants yet.', data);
        return 0;
      }
      case 'apikey create': {
        const scopes = (
          typeof flags.scopes === 'string' ? flags.scopes.split(',') : [...API_SCOPES]
        ) as ApiScope[];
        const bad = scopes.find((s) => !API_SCOPES.includes(s));
        if (bad)
          throw new TallyError(
            'validation_failed',
            `Unknown scope "${bad}"; choose from ${API_SCOPES.join(', ')}.`,
          );
        const key = await withTally((t) =>
          existingMerchant(t, flags.merchant).then((merchant) =>
            createApiKey(t.database.db, merchant, need(flags, 'name'), scopes, t.clock.now()),
          ),
        );
        print(`API key ${key.id} (shown once):\n${key.token}`, { id: key.id, token: key.token, scopes });
        return 0;
      }
      case 'apikey revoke': {
        const outcome = await withTally(async (t) => {
          const merchant = await existingMerchant(t, flags.merchant);
          const key = need(flags, 'key');
          if (await revokeApiKey(t.database.db, merchant, key, t.clock.now())) return 'revoked';
          // As the API answers a repeated revoke: the key is revoked, which is what was asked.
          const known = (await listApiKeys(t.database.db, merchant)).some((k) => k.id === key);
          if (!known) throw new TallyError('not_found', `Merchant ${merchant} has no API key ${key}.`);
          return 'already revoked';
        });
        print(outcome === 'revoked' ? 'Revoked.' : 'Already revoked.', { revoked: true });
        return 0;
      }
      case 'wallet add': {
        const w = await withTally(async (t) =>
          // The key is checked before the merchant: a pasted private key is refused whatever else is wrong.
          addWallet(t, need(flags, 'merchant'), {
            scope: need(flags, 'scope'),
            xpub: need(flags, 'xpub'),
            script_type: flags['script-type'] as string | undefined,
            label: flags.label as string | undefined,
            master_fingerprint: flags['master-fingerprint'] as string | undefined,
            account_path: flags['account-path'] as string | undefined,
          }),
        );
        print(`Added wallet ${w.id} for ${w.scope}`, w);
        return 0;
      }
      case 'wallet rescan': {
        const request = {
          walletId: need(flags, 'wallet'),
          fromIndex: needIndex(flags, 'from'),
          toIndex: needIndex(flags, 'to'),
          fromHeight: needIndex(flags, 'from-height', 0),
        };
        const config = loadConfig();
        const report = await withTally(async (t) => {
          const network = config.bitcoinRpcUrl === '' ? null : config.bitcoinNetwork;
          await loadRescanWallet(t.database.db, request, network);
          const rpc = new BitcoinRpc({
            url: config.bitcoinRpcUrl,
            user: config.bitcoinRpcUser,
            password: config.bitcoinRpcPassword,
          });
          const bar = progressBar(progress, 'rescan');
          try {
            return await rescanWallet(t.database.db, new BitcoinNode(rpc, config.bitcoinNetwork), {
              ...request,
              onProgress: (done, total) => bar.update(done, total),
            });
          } finally {
            bar.finish();
          }
        });
        print(rescanText(report), report);
        return 0;
      }
      case 'invoice create': {
        const options = flags.option?.map(parseOptionFlag);
        const inv = await withTally(async (t) =>
          createInvoice(t, await existingMerchant(t, flags.merchant), {
            price: { amount: need(flags, 'amount'), currency: need(flags, 'currency').toUpperCase() },
            payment_options: options,
            merchant_order_id: flags['order-id'] as string | undefined,
          }),
        );
        print(
          `Invoice ${inv.id} ${inv.status}\n${inv.payment_options.map((o) => `  pay ${o.amount_due} ${o.asset} on ${o.network} to ${o.address}`).join('\n')}`,
          inv,
        );
        return 0;
      }
      case 'dev pay': {
        const paid = await withTally(async (t) =>
          payInvoiceOnDevnet(t, {
            invoiceId: need(flags, 'invoice'),
            ...runningDevnet(t),
            ...(typeof flags.option?.[0] === 'string' ? { optionId: flags.option[0] } : {}),
          }),
        );
        print(
          `Sent ${paid.amount} ${paid.asset} (${paid.amount_base_units} base units) on ${paid.network} to invoice ${paid.invoice_id}: tx ${paid.txid}. The gateway's watcher will pick it up.`,
          paid,
        );
        return 0;
      }
      case 'invoice show': {
        const inv = await withTally((t) => getInvoice(t, need(flags, 'merchant'), need(flags, 'invoice')));
        print(invoiceSummary(inv), inv);
        return 0;
      }
      default: {
        // Dashboard users and the audit log: src/cli/dashboard-commands.ts.
        const code = await dashboardCommand(command, flags, print, withTally);
        if (code !== null) return code;
        // Ledger, reconciliation, settlement export and sweeps: src/cli/money-commands.ts.
        const money = await runMoneyCommand(command, flags, print, withTally, progress);
        if (money !== null) return money;
        out(`Unknown command "${command}".\n\n${USAGE}`);
        return 2;
      }
    }
  } catch (error) {
    const e =
      error instanceof TallyError
        ? { code: error.code, message: error.message, details: error.details }
        : { code: 'internal', message: String(error) };
    if (flags.json) out(JSON.stringify({ error: e }, null, 2));
    else out(`error (${e.code}): ${e.message}`);
    return 1;
  }
}
