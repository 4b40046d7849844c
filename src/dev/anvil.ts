import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawnTiedToThisProcess } from './tied-process.ts';

/**
 * A real anvil (Foundry's local EVM node) from npm: the binary ships in Foundry's platform
 * package (`@foundry-rs/anvil-linux-amd64`, …), which package.json names directly as an optional
 * dependency. The `@foundry-rs/anvil` wrapper lists every platform's package, the registry here
 * serves only linux-amd64, and `npm ci` then fails on a lock file without the others. Used by the
 * tests and by dev mode's devnet.
 * Listens on 127.0.0.1 only, on a port the OS picks unless one is given.
 */
export interface Anvil {
  url: string;
  port: number;
  chainId: number;
  stop(): Promise<void>;
}

export interface AnvilOptions {
  chainId: number;
  port?: number;
  /**
   * anvil's `finalized` tag is the tip minus two epochs of this many slots (default 32, so 64
   * blocks); tests make it small to see finality in a few blocks.
   */
  slotsInAnEpoch?: number;
  /** Mine a block every N seconds as well as on each transaction (dev mode); default: on transaction only. */
  blockTimeSeconds?: number;
}

export function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    const dir = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
    return join(dir, 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  } catch {
    throw new Error(`anvil is not installed: ${pkg} is missing; run npm ci (it is a dev dependency)`);
  }
}

export async function startAnvil(options: AnvilOptions): Promise<Anvil> {
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    String(options.port ?? 0),
    '--chain-id',
    String(options.chainId),
    '--slots-in-an-epoch',
    String(options.slotsInAnEpoch ?? 32),
    '--no-request-size-limit',
  ];
  if (options.blockTimeSeconds) args.push('--block-time', String(options.blockTimeSeconds));
  const child: ChildProcess = spawnTiedToThisProcess(anvilBinary(), args);
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`anvil did not start within 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`anvil exited with ${code}:\n${output}`));
    });
  });
  // Keep draining its output so a full pipe never blocks the node.
  child.stdout?.removeAllListeners('data').resume();
  child.stderr?.removeAllListeners('data').resume();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    chainId: options.chainId,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
