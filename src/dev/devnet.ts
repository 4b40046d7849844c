import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EvmRpc } from '../chains/evm/rpc-client.ts';
import type { Config } from '../config.ts';
import type { Tally } from '../context.ts';
import { findAsset } from '../core/registry.ts';
import { type Anvil, startAnvil } from './anvil.ts';
import { type BitcoinDevnet, findBtcd, startBitcoinDevnet } from './bitcoin-devnet.ts';
import { DEV_ACCOUNTS, deployToken, mint, prepareActors } from './evm-tools.ts';
import { devCustomerBtcAddress } from './pay-bitcoin.ts';

/**
 * DEV MODE ONLY: the local chain `npm start` runs beside the gateway, so a newcomer can pay an
 * invoice and watch it move without installing or configuring anything. An anvil with chain id
 * 31337 (the registry's `evm-devnet`), test USDC and USDT deployed at the registry's addresses,
 * and test money for the dev "customer"; and Bitcoin regtest when btcd is installed. The chains
 * live in memory: each start is a fresh chain, so the watchers' cursors for them are reset (old
 * devnet invoices keep their recorded history).
 * Production mode never calls this (src/server.ts).
 */
export interface Devnet {
  network: 'evm-devnet';
  rpcUrl: string;
  /** Bitcoin regtest, when btcd is installed. */
  bitcoin: BitcoinDevnet | null;
  stop(): Promise<void>;
}

/** What a running devnet writes for `tally dev pay` in another process. */
export interface DevnetState {
  rpcUrl: string;
  bitcoinRpcUrl: string | null;
}

export const DEVNET_NETWORK = 'evm-devnet';

/** Where the running devnet's RPC URL is written, for `tally dev pay` in another process. */
export function devnetStatePath(config: Config): string {
  const url = config.databaseUrl;
  const file = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  const dir = url.startsWith('postgres') ? '.tally' : dirname(file);
  return join(dir, 'devnet.json');
}

async function anvilOnPreferredPort(): Promise<Anvil> {
  const chainId = 31337;
  // 8545 is what wallets and tools expect for a local node; any free port if it is taken.
  try {
    return await startAnvil({ chainId, port: 8545, blockTimeSeconds: 1 });
  } catch {
    return startAnvil({ chainId, blockTimeSeconds: 1 });
  }
}

export async function startDevnet(tally: Tally): Promise<Devnet> {
  // Before any node starts: a TALLY_BTCD that names no file is refused here, with nothing to stop.
  const btcd = findBtcd();
  const anvil = await anvilOnPreferredPort();
  const rpc = new EvmRpc({ urls: [anvil.url] });
  try {
    await prepareActors(rpc);
    // The deployer's first two transactions create the tokens, so they land at fixed addresses
    // (CREATE = sender + nonce), the ones the registry lists; a mismatch means the devnet is not
    // what the registry describes.
    const tokens: string[] = [];
    for (const code of ['USDC', 'USDT'] as const) {
      const asset = findAsset(code, DEVNET_NETWORK);
      const address = await deployToken(rpc, { name: `Test ${code}`, symbol: code, decimals: 6 });
      if (address.toLowerCase() !== asset?.contract?.toLowerCase()) {
        throw new Error(`devnet ${code} deployed at ${address}, the registry expects ${asset?.contract}`);
      }
      tokens.push(address);
    }
    for (const token of tokens) await mint(rpc, token, DEV_ACCOUNTS.customer, 1_000_000_000_000n);
  } catch (error) {
    await anvil.stop();
    throw error;
  }
  let bitcoin: BitcoinDevnet | null = null;
  if (btcd) {
    try {
      bitcoin = await startBitcoinDevnet(btcd, await devCustomerBtcAddress());
    } catch (error) {
      tally.log.warn({ err: String(error) }, 'btcd is installed but did not start: the devnet is EVM only');
    }
  }
  const stopNodes = () => Promise.all([anvil.stop(), bitcoin?.stop()]);
  const statePath = devnetStatePath(tally.config);
  try {
    // Fresh chains: forget the previous devnet's blocks so the watchers start at these ones' tips.
    const fresh = bitcoin ? [DEVNET_NETWORK, bitcoin.network] : [DEVNET_NETWORK];
    await tally.database.write(async (trx) => {
      await trx.deleteFrom('chain_blocks').where('network', 'in', fresh).execute();
      await trx.deleteFrom('chain_watched_txs').where('network', 'in', fresh).execute();
    });
    mkdirSync(dirname(statePath), { recursive: true });
    const state: DevnetState = { rpcUrl: anvil.url, bitcoinRpcUrl: bitcoin?.rpcUrl ?? null };
    writeFileSync(statePath, `${JSON.stringify(state, null, 2)}\n`);
  } catch (error) {
    // Nothing else knows about these nodes yet: stop them rather than leave them running.
    await stopNodes();
    throw error;
  }
  return {
    network: DEVNET_NETWORK,
    rpcUrl: anvil.url,
    bitcoin,
    stop: async () => {
      rmSync(statePath, { force: true });
      await stopNodes();
    },
  };
}
