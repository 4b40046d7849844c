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
 * which `npm test` runs): a btcd on 127.0.0.1 mining to the dev customer's key, 101 blocks so its
 * first coinbase can be spent. Without btcd the devnet is EVM only. btcd 0.24.2 loses its regtest
 * chain across restarts, so each start is a fresh chain in a temporary directory.
 */
export interface BitcoinDevnet {
  network: 'bitcoin-regtest';
  rpcUrl: string;
  user: string;
  password: string;
  stop(): Promise<void>;
}

export const BTC_DEVNET_USER = 'tally-dev';
export const BTC_DEVNET_PASSWORD = 'regtest-only';

/**
 * The dev customer's Bitcoin key: fixed and public (derived from a label), because it only ever
 * holds regtest coins. The gateway itself never holds keys; this is the customer's wallet.
 */
export const DEV_BTC_CUSTOMER_KEY = sha256(new TextEncoder().encode('tally dev customer (regtest only)'));

export function findBtcd(): string | null {
  const candidates = [process.env.TALLY_BTCD ?? ''];
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
    await rpc.call('generate', [101]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { network: 'bitcoin-regtest', rpcUrl, user: BTC_DEVNET_USER, password: BTC_DEVNET_PASSWORD, stop };
}
