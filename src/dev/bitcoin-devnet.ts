import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { BitcoinRpc } from '../chains/bitcoin/rpc-client.ts';
import { spawnTiedToThisProcess } from './tied-process.ts';

/**
 * DEV MODE ONLY: Bitcoin regtest in the devnet when btcd is installed (`scripts/install-btcd.sh`,
 * which `npm test` runs): a btcd on 127.0.0.1 mining to the dev customer's key, pre-mined to
 * `DEVNET_BTC_START_HEIGHT` so SegWit and Taproot are active (refunds spend from bcrt1q/bcrt1p
 * invoice addresses) and the customer has mature coinbases. Without btcd the devnet is EVM only.
 * btcd 0.24.2 loses its regtest chain across restarts, so each start is a fresh chain in a
 * temporary directory.
 */
export interface BitcoinDevnet {
  network: 'bitcoin-regtest';
  rpcUrl: string;
  user: string;
  password: string;
  stop(): Promise<void>;
}

/**
 * The tip height the devnet starts at. btcd's regtest (chaincfg.RegressionNetParams, v0.24.2) has
 * no buried SegWit: CSV, SegWit and Taproot are BIP9 deployments with 144-block windows (108 votes
 * to lock in), always started, never expiring, no minimum activation height, and every block btcd
 * mines signals them. So heights 0–143 are DEFINED, 144–287 STARTED (all vote), 288–431
 * LOCKED_IN, and the rules are ACTIVE from block 432: with the tip at 431, getblockchaininfo says
 * "active" and the mempool accepts witness spends. (Below that, btcd refuses a correctly signed
 * spend from a bcrt1q address: "has witness data, but segwit isn't active yet".) It is far past
 * the 101 blocks the first coinbase needs to mature.
 */
export const DEVNET_BTC_START_HEIGHT = 3 * 144 - 1;

export const BTC_DEVNET_USER = 'tally-dev';
export const BTC_DEVNET_PASSWORD = 'regtest-only';

/**
 * The dev customer's Bitcoin key: fixed and public (derived from a label), because it only ever
 * holds regtest coins. The gateway itself never holds keys; this is the customer's wallet.
 */
export const DEV_BTC_CUSTOMER_KEY = sha256(new TextEncoder().encode('tally dev customer (regtest only)'));

/**
 * The btcd binary for the devnet: TALLY_BTCD when set (a path that names no file is refused, like
 * any other bad setting, rather than quietly passed over for another btcd), else where `go install`
 * puts it. Null when there is none: the devnet is then EVM only.
 */
export function findBtcd(): string | null {
  const chosen = process.env.TALLY_BTCD ?? '';
  if (chosen !== '') {
    if (!existsSync(chosen))
      throw new Error(`TALLY_BTCD must name the btcd binary; "${chosen}" does not exist`);
    return chosen;
  }
  const candidates: string[] = [];
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    candidates.push(join(gopath.trim(), 'bin', 'btcd'));
  } catch {
    // No Go toolchain: look where `go install` puts binaries by default.
  }
  candidates.push(join(homedir(), 'go', 'bin', 'btcd'));
  return candidates.find((c) => c !== '' && existsSync(c)) ?? null;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

export async function startBitcoinDevnet(binary: string, miningAddress: string): Promise<BitcoinDevnet> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-devnet-btcd-'));
  const [rpcPort, p2pPort] = [await freePort(), await freePort()];
  const rpcUrl = `http://127.0.0.1:${rpcPort}`;
  const rpc = new BitcoinRpc({
    url: rpcUrl,
    user: BTC_DEVNET_USER,
    password: BTC_DEVNET_PASSWORD,
    timeoutMs: 5_000,
  });
  const child = spawnTiedToThisProcess(binary, [
    '--regtest',
    '--notls',
    `--rpclisten=127.0.0.1:${rpcPort}`,
    `--listen=127.0.0.1:${p2pPort}`,
    `--rpcuser=${BTC_DEVNET_USER}`,
    `--rpcpass=${BTC_DEVNET_PASSWORD}`,
    `--datadir=${join(dir, 'data')}`,
    `--logdir=${join(dir, 'logs')}`,
    `--miningaddr=${miningAddress}`,
    '--txindex',
    '--debuglevel=warn',
  ]);
  child.stdout?.resume();
  child.stderr?.resume();
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    let up = false;
    for (let attempt = 0; attempt < 300 && !up; attempt++) {
      try {
        await rpc.call<number>('getblockcount');
        up = true;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    if (!up) throw new Error('btcd did not answer within 30 s');
    await mineUntilSoftforksActive(rpc);
  } catch (error) {
    await stop();
    throw error;
  }
  return { network: 'bitcoin-regtest', rpcUrl, user: BTC_DEVNET_USER, password: BTC_DEVNET_PASSWORD, stop };
}

interface ChainInfo {
  blocks: number;
  bip9_softforks?: Record<string, { status: string }>;
}

/**
 * Mines to `DEVNET_BTC_START_HEIGHT` (measured: 65–160 ms more than the 101 blocks mined before),
 * a window at a time so no single call nears the RPC timeout on a slow machine, then checks that
 * SegWit and Taproot are active: a devnet that would refuse every refund fails at start instead.
 */
async function mineUntilSoftforksActive(rpc: BitcoinRpc): Promise<void> {
  for (;;) {
    const height = await rpc.call<number>('getblockcount');
    if (height >= DEVNET_BTC_START_HEIGHT) break;
    await rpc.call('generate', [Math.min(144, DEVNET_BTC_START_HEIGHT - height)]);
  }
  const info = await rpc.call<ChainInfo>('getblockchaininfo');
  const inactive = ['segwit', 'taproot'].filter((fork) => info.bip9_softforks?.[fork]?.status !== 'active');
  if (inactive.length > 0) {
    throw new Error(
      `btcd regtest at height ${info.blocks}: ${inactive.join(' and ')} not active (${JSON.stringify(info.bip9_softforks)})`,
    );
  }
}
