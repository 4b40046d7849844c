import type { Kysely } from 'kysely';
import { scriptForAddress } from '../chains/bitcoin/address-script.ts';
import type { BitcoinNode } from '../chains/bitcoin/bitcoin-node.ts';
import { TallyError, validationError } from '../core/errors.ts';
import { formatAmount } from '../core/money.ts';
import type { Schema } from '../db/schema.ts';
import { addressDeriver } from './families.ts';

/** One rescan covers at most this many derivation indexes (each is a derivation and a map entry). */
export const MAX_RESCAN_ADDRESSES = 10_000;
/** Blocks fetched from the node concurrently: enough to hide RPC latency, few enough to be polite. */
const PREFETCH = 4;
const BTC_DECIMALS = 8;

export interface RescanRequest {
  walletId: string;
  fromIndex: number;
  toIndex: number;
  /** First block height to read (default 0). */
  fromHeight?: number;
  /** Called after each block with blocks done and blocks in total. */
  onProgress?: (done: number, total: number) => void;
}

export interface RescanAddress {
  index: number;
  address: string;
  /** Sum of every output paying the address in the scanned blocks (received, not the balance). */
  received: string;
  received_sats: string;
  outputs: number;
  txids: string[];
  first_height: number;
  last_height: number;
  /** Whether the address was handed out to an invoice's payment option, and which. */
  allocated: boolean;
  invoice_id: string | null;
  option_id: string | null;
}

export interface RescanReport {
  wallet_id: string;
  network: string;
  script_type: string;
  index_from: number;
  index_to: number;
  height_from: number;
  height_to: number;
  blocks_scanned: number;
  addresses_scanned: number;
  addresses_with_funds: number;
  /** Addresses with funds that no invoice was ever given: invisible to Tally's watcher. */
  unallocated_with_funds: number;
  total_received: string;
  total_received_sats: string;
  addresses: RescanAddress[];
}

function intArg(value: number, path: string): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw validationError([{ path, message: 'must be a non-negative integer' }]);
  return value;
}

/** Refuses a rescan before touching the node: bad range, unknown or non-Bitcoin wallet, wrong network. */
export async function loadRescanWallet(
  db: Kysely<Schema>,
  request: Pick<RescanRequest, 'walletId' | 'fromIndex' | 'toIndex'>,
  nodeNetwork: string | null,
) {
  const from = intArg(request.fromIndex, 'from');
  const to = intArg(request.toIndex, 'to');
  if (from > to) throw validationError([{ path: 'from', message: `--from ${from} is above --to ${to}` }]);
  if (to - from + 1 > MAX_RESCAN_ADDRESSES) {
    throw validationError([
      {
        path: 'to',
        message: `the range covers ${to - from + 1} addresses; at most ${MAX_RESCAN_ADDRESSES} per rescan`,
      },
    ]);
  }
  if (to >= 2 ** 31)
    throw validationError([{ path: 'to', message: 'must be below 2^31 (non-hardened indexes)' }]);
  const wallet = await db
    .selectFrom('wallets')
    .select(['id', 'family', 'scope', 'xpub', 'script_type'])
    .where('id', '=', request.walletId)
    .executeTakeFirst();
  if (!wallet) throw new TallyError('not_found', `No wallet ${request.walletId}.`);
  if (wallet.family !== 'bitcoin') {
    throw new TallyError(
      'validation_failed',
      `Wallet ${wallet.id} is an EVM wallet; rescan reads Bitcoin blocks only.`,
    );
  }
  if (nodeNetwork === null) {
    throw new TallyError(
      'service_unavailable',
      'No Bitcoin node is configured: set TALLY_BITCOIN_RPC_URL (and _USER, _PASSWORD, TALLY_BITCOIN_NETWORK).',
    );
  }
  if (wallet.scope !== nodeNetwork) {
    throw new TallyError(
      'validation_failed',
      `Wallet ${wallet.id} serves ${wallet.scope} but the configured node serves ${nodeNetwork} (TALLY_BITCOIN_NETWORK).`,
    );
  }
  return { ...wallet, from, to };
}

/**
 * Derives a wallet's receive addresses `fromIndex..toIndex` and reads every block from `fromHeight`
 * to the node's tip for outputs paying them. Read-only: it reports what it finds and writes
 * nothing (no payment, no fact, no allocation). Meant for funds sent past the gap limit, to an
 * address reused after its invoice, or to an address never handed out.
 */
export async function rescanWallet(
  db: Kysely<Schema>,
  node: BitcoinNode,
  request: RescanRequest,
): Promise<RescanReport> {
  const wallet = await loadRescanWallet(db, request, node.network);
  const fromHeight = intArg(request.fromHeight ?? 0, 'from-height');
  await node.checkGenesis();
  const tip = (await node.status()).height;
  if (fromHeight > tip) {
    throw validationError([{ path: 'from-height', message: `is above the node's tip (${tip})` }]);
  }

  const derive = addressDeriver(wallet.scope, wallet.xpub, wallet.script_type);
  const byScript = new Map<string, { index: number; address: string }>();
  for (let index = wallet.from; index <= wallet.to; index++) {
    const address = derive(index);
    byScript.set(scriptForAddress(address, wallet.scope), { index, address });
  }

  const found = new Map<
    number,
    { address: string; sats: bigint; outputs: number; txids: Set<string>; first: number; last: number }
  >();
  const total = tip - fromHeight + 1;
  let done = 0;
  const fetchBlock = async (height: number) => {
    const hash = await node.blockHashAt(height);
    if (hash === null) throw new TallyError('service_unavailable', `The node has no block at ${height}.`);
    return node.block(hash);
  };
  for (let start = fromHeight; start <= tip; start += PREFETCH) {
    const heights = Array.from({ length: Math.min(PREFETCH, tip - start + 1) }, (_, i) => start + i);
    const blocks = await Promise.all(heights.map(fetchBlock));
    blocks.forEach((block, i) => {
      const height = heights[i] as number;
      for (const tx of block.transactions) {
        for (const output of tx.outputs) {
          const hit = byScript.get(output.script);
          if (!hit) continue;
          let entry = found.get(hit.index);
          if (!entry) {
            entry = {
              address: hit.address,
              sats: 0n,
              outputs: 0,
              txids: new Set(),
              first: height,
              last: height,
            };
            found.set(hit.index, entry);
          }
          entry.sats += output.value;
          entry.outputs += 1;
          entry.txids.add(tx.txid);
          entry.last = height;
        }
      }
      done += 1;
      request.onProgress?.(done, total);
    });
  }

  const indexes = [...found.keys()].sort((a, b) => a - b);
  const allocations = new Map<number, { option_id: string; invoice_id: string | null }>();
  if (indexes.length > 0) {
    const rows = await db
      .selectFrom('wallet_addresses as wa')
      .leftJoin('payment_options as po', 'po.id', 'wa.option_id')
      .select(['wa.derivation_index', 'wa.option_id', 'po.invoice_id'])
      .where('wa.wallet_id', '=', wallet.id)
      .where('wa.option_id', 'is not', null)
      .where('wa.derivation_index', 'in', indexes)
      .execute();
    for (const row of rows) {
      if (row.option_id !== null)
        allocations.set(row.derivation_index, { option_id: row.option_id, invoice_id: row.invoice_id });
    }
  }
  const addresses: RescanAddress[] = indexes.map((index) => {
    const entry = found.get(index);
    if (!entry) throw new Error('unreachable');
    const allocation = allocations.get(index);
    return {
      index,
      address: entry.address,
      received: formatAmount(entry.sats, BTC_DECIMALS),
      received_sats: entry.sats.toString(),
      outputs: entry.outputs,
      txids: [...entry.txids],
      first_height: entry.first,
      last_height: entry.last,
      allocated: allocation !== undefined,
      invoice_id: allocation?.invoice_id ?? null,
      option_id: allocation?.option_id ?? null,
    };
  });
  const totalSats = [...found.values()].reduce((sum, e) => sum + e.sats, 0n);
  return {
    wallet_id: wallet.id,
    network: wallet.scope,
    script_type: wallet.script_type,
    index_from: wallet.from,
    index_to: wallet.to,
    height_from: fromHeight,
    height_to: tip,
    blocks_scanned: done,
    addresses_scanned: wallet.to - wallet.from + 1,
    addresses_with_funds: addresses.length,
    unallocated_with_funds: addresses.filter((a) => !a.allocated).length,
    total_received: formatAmount(totalSats, BTC_DECIMALS),
    total_received_sats: totalSats.toString(),
    addresses,
  };
}
