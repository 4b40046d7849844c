import { sql } from 'kysely';
import { decodeEventLog, erc20Abi, type Hex, pad } from 'viem';
import { type FeeReceipt, receiptFee } from '../chains/evm/receipt-fee.ts';
import type { EvmRpc } from '../chains/evm/rpc-client.ts';
import type { Tally } from '../context.ts';
import { unitsFromDb } from '../core/money.ts';
import { findAsset, getNetwork } from '../core/registry.ts';
import '../db/schema-money.ts';
import { bookMovement } from '../settlement/book-movement.ts';
import { evmMovementInputs } from '../settlement/evm-movement-inputs.ts';
import { forgetPendingOutflow, pendingNativeTransfers } from '../settlement/pending-outflows.ts';
import { settlePendingOutflows } from '../settlement/settle-pending-outflows.ts';
import { withinRefund } from './evm-refund-match.ts';

const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';

/** The highest block this network considers final: its tag, or the tip minus its confirmation count. */
async function finalBlock(rpc: EvmRpc, network: string): Promise<bigint> {
  const def = getNetwork(network);
  if (def.finality.kind === 'tag') {
    const block = await rpc.call<{ number: Hex } | null>('eth_getBlockByNumber', [def.finality.tag, false]);
    return block ? BigInt(block.number) : -1n;
  }
  const tip = BigInt(await rpc.call<Hex>('eth_blockNumber'));
  return tip - BigInt(Math.max(1, def.defaultConfirmations)) + 1n;
}

interface OpenRefund {
  id: string;
  kind: string;
  merchant_id: string;
  invoice_id: string;
  option_id: string;
  asset: string;
  amount: string;
  send_amount: string | null;
  destination: string | null;
  unsigned_tx: string | null;
  txid: string | null;
  address: string;
}

/** What the chain showed for a refund: the transaction, how much reached the customer, the gas. */
interface Found {
  txHash: Hex;
  blockHash: Hex;
  blockNumber: bigint;
  value: bigint;
  /** Gas paid in the refund's own asset (native refunds); 0 for tokens (gas is another asset). */
  fee: bigint;
  /** The Transfer log's index; -1 for a native refund (the transaction itself). */
  logIndex: number;
}

/**
 * Completes approved EVM refunds once their transaction is final (docs/decisions/0011). Tally
 * never sees the signed transaction, and the EVM watcher, which books other transfers out of
 * invoice addresses when mined, leaves the one a refund awaits to this job (evm-refund-match.ts), so:
 *  - a token refund is found by its `Transfer(from = invoice address, to = destination)` log of at
 *    least the built amount and at most the amount owed, since the block it was built at;
 *  - a native-coin refund has no log: the merchant tells Tally its hash
 *    (`POST /v1/refunds/{id}/transaction-hash`), or else the native transfers the watcher saw from
 *    the address to the destination are the candidates, and one counts only if the chain confirms it — sent
 *    from the invoice address to the destination, between the built and the owed amount, succeeded, final.
 * Booked like a Bitcoin movement, in one transaction, once: the movement, the ledger, the refund
 * completed and `refund_completed` through the invoice's transition (status, event). Then the
 * transfers the watcher left to this job that no refund took are booked as sweeps
 * (settle-pending-outflows.ts).
 */
export async function checkEvmRefunds(tally: Tally, network: string, rpc: EvmRpc): Promise<string[]> {
  const refunds: OpenRefund[] = await tally.database.db
    .selectFrom('refunds')
    .innerJoin('payment_options', 'payment_options.id', 'refunds.option_id')
    .select([
      'refunds.id',
      'refunds.kind',
      'refunds.merchant_id',
      'refunds.invoice_id',
      'refunds.option_id',
      'refunds.asset',
      'refunds.amount',
      'refunds.send_amount',
      'refunds.destination',
      'refunds.unsigned_tx',
      'refunds.txid',
      'payment_options.address',
    ])
    .where('refunds.network', '=', network)
    .where('refunds.status', '=', 'approved')
    .where('refunds.unsigned_tx', 'is not', null)
    // Refunds with a reported hash first: their transaction is known, so a refund without one
    // cannot take it as a candidate in the same run (findNativeTransfer also skips it).
    .orderBy(sql`refunds.txid is null`)
    .orderBy('refunds.id')
    .execute();
  const completed: string[] = [];
  const pending = await tally.database.db
    .selectFrom('evm_pending_outflows')
    .select('txid')
    .where('network', '=', network)
    .limit(1)
    .executeTakeFirst();
  if (refunds.length === 0 && !pending) return completed;
  const final = await finalBlock(rpc, network);
  for (const r of refunds) {
    const token = findAsset(r.asset, network)?.contract ?? null;
    const built = JSON.parse(r.unsigned_tx ?? '{}') as { from_block?: string };
    if (!r.destination || built.from_block === undefined) continue;
    // One refund that cannot be booked (e.g. a transaction already booked for another refund)
    // must not stop the others on this network: log it and go on; the next run tries it again.
    try {
      const found = token
        ? await findTokenTransfer(tally, network, rpc, token, r, BigInt(built.from_block), final)
        : await findNativeTransfer(tally, network, rpc, r, BigInt(built.from_block), final);
      if (!found) continue;
      if (await book(tally, network, r, found)) completed.push(r.id);
    } catch (error) {
      tally.log.warn({ refund: r.id, err: (error as Error).message }, 'EVM refund not booked');
    }
  }
  // Then the transfers the watcher left to this job that no refund took: booked, never lost.
  try {
    if (pending) await settlePendingOutflows(tally, network, final);
  } catch (error) {
    tally.log.warn({ network, err: (error as Error).message }, 'EVM pending outflows not settled');
  }
  return completed;
}

/** `${tx hash}:${log index}` of the live movements among these transactions. */
async function bookedLogs(tally: Tally, network: string, txids: readonly string[]): Promise<Set<string>> {
  if (txids.length === 0) return new Set();
  const rows = await tally.database.db
    .selectFrom('settlement_movements')
    .select(['txid', 'log_index'])
    .where('network', '=', network)
    .where('txid', 'in', [...new Set(txids)])
    .where('removed', '=', 0)
    .execute();
  return new Set(rows.map((m) => `${m.txid.toLowerCase()}:${m.log_index}`));
}

/**
 * The first Transfer log to the destination of the refund's amount that no live movement books
 * yet. Without that last test, two approved refunds of one amount to one destination both found
 * the first log: the second's booking saw the movement there and did nothing, so it stayed
 * approved for ever and its own transfer was never booked.
 */
async function findTokenTransfer(
  tally: Tally,
  network: string,
  rpc: EvmRpc,
  token: string,
  r: OpenRefund,
  fromBlock: bigint,
  final: bigint,
): Promise<Found | null> {
  if (final < fromBlock) return null;
  const logs = await rpc.call<
    Array<{ data: Hex; topics: Hex[]; transactionHash: Hex; blockHash: Hex; blockNumber: Hex; logIndex: Hex }>
  >('eth_getLogs', [
    {
      address: token,
      fromBlock: `0x${fromBlock.toString(16)}`,
      toBlock: `0x${final.toString(16)}`,
      topics: [
        TRANSFER_TOPIC,
        pad(r.address.toLowerCase() as Hex),
        pad((r.destination ?? '').toLowerCase() as Hex),
      ],
    },
  ]);
  const booked = await bookedLogs(
    tally,
    network,
    logs.map((l) => l.transactionHash),
  );
  for (const log of logs) {
    if (booked.has(`${log.transactionHash.toLowerCase()}:${Number(BigInt(log.logIndex))}`)) continue;
    const event = decodeEventLog({ abi: erc20Abi, data: log.data, topics: log.topics as [Hex, ...Hex[]] });
    const value = event.eventName === 'Transfer' ? (event.args as { value: bigint }).value : 0n;
    // Between the built amount and the amount owed (evm-refund-match.ts: more is not this refund).
    if (withinRefund(value, r))
      return {
        txHash: log.transactionHash,
        blockHash: log.blockHash,
        blockNumber: BigInt(log.blockNumber),
        value,
        fee: 0n,
        logIndex: Number(BigInt(log.logIndex)),
      };
  }
  return null;
}

/**
 * A native refund's transaction: the hash the merchant reported, or else the native transfers from
 * the invoice address to the destination the watcher saw and left to this job (pending outflows) —
 * each checked on chain the same way, so a wrong candidate completes nothing.
 */
async function findNativeTransfer(
  tally: Tally,
  network: string,
  rpc: EvmRpc,
  r: OpenRefund,
  fromBlock: bigint,
  final: bigint,
): Promise<Found | null> {
  const candidates = r.txid
    ? [r.txid]
    : await withoutOthersReported(
        tally,
        network,
        r.id,
        await pendingNativeTransfers(tally.database.db, network, r.option_id, r.destination ?? ''),
      );
  const booked = await bookedLogs(tally, network, candidates);
  for (const txid of candidates) {
    if (booked.has(`${txid.toLowerCase()}:-1`)) continue;
    const found = await verifyNativeTransfer(rpc, r, txid, fromBlock, final);
    if (found) return found;
  }
  return null;
}

/**
 * The candidates no other refund names as its transaction. Two refunds of one amount to one
 * destination both match the same transfer on chain; without this, the refund with no reported
 * hash took the transaction reported for the other, which then stayed approved for ever while its
 * own transfer was later booked as a sweep.
 */
async function withoutOthersReported(
  tally: Tally,
  network: string,
  refundId: string,
  candidates: string[],
): Promise<string[]> {
  if (candidates.length === 0) return candidates;
  const rows = await tally.database.db
    .selectFrom('refunds')
    .select('txid')
    .where('network', '=', network)
    .where('id', '!=', refundId)
    .where('txid', 'in', [...new Set(candidates.map((t) => t.toLowerCase()))])
    .execute();
  const taken = new Set(rows.map((row) => (row.txid ?? '').toLowerCase()));
  return candidates.filter((t) => !taken.has(t.toLowerCase()));
}

async function verifyNativeTransfer(
  rpc: EvmRpc,
  r: OpenRefund,
  txid: string,
  fromBlock: bigint,
  final: bigint,
): Promise<Found | null> {
  const [tx, receipt] = await rpc.batch<
    | (FeeReceipt & {
        from: string;
        to: string | null;
        value: Hex;
        blockHash: Hex | null;
        blockNumber: Hex | null;
        status?: Hex;
      })
    | null
  >([
    { method: 'eth_getTransactionByHash', params: [txid] },
    { method: 'eth_getTransactionReceipt', params: [txid] },
  ]);
  if (!tx || !receipt || tx.blockNumber === null || tx.blockHash === null) return null;
  // Mined after the refund transaction was built: an older transfer to the same address is not it.
  const height = BigInt(tx.blockNumber);
  if (height > final || height < fromBlock || receipt.status !== '0x1') return null;
  const value = BigInt(tx.value);
  const same = (a: string | null, b: string | null) => (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
  if (!same(tx.from, r.address) || !same(tx.to, r.destination) || !withinRefund(value, r)) return null;
  const fee = receiptFee(receipt);
  return {
    txHash: txid as Hex,
    blockHash: tx.blockHash,
    blockNumber: BigInt(tx.blockNumber),
    value,
    fee,
    logIndex: -1,
  };
}

/**
 * Books the refund through the same `bookMovement` as the watchers (one booker, one idempotency
 * key: network, tx hash, log index), in its own transaction: the refund completed (guarded on
 * `approved`, so a second run does nothing), the movement, its ledger transaction and
 * `refund_completed` on the invoice. The value that left is what reached the customer plus, for
 * a native refund, the gas it paid; a full native refund's whole gas allowance came out of the
 * refund (evm-refund.ts built it so), so it refunds all it owed, as a Bitcoin full refund does.
 */
async function book(tally: Tally, network: string, r: OpenRefund, found: Found): Promise<boolean> {
  const value = found.value + found.fee;
  const id = await tally.database.write(async (trx) => {
    const movementId = await bookMovement(tally, trx, {
      merchantId: r.merchant_id,
      network,
      asset: r.asset,
      txid: found.txHash,
      logIndex: found.logIndex,
      block: { hash: found.blockHash, height: Number(found.blockNumber), seenAt: tally.clock.now() },
      value,
      fee: found.fee,
      refund: {
        id: r.id,
        invoiceId: r.invoice_id,
        owed: unitsFromDb(r.amount),
        output: found.value,
        completed: false,
        paysOwnGas: r.kind === 'full' && found.logIndex === -1,
      },
      outputs: [
        { to: r.destination, amount: found.value.toString(), role: 'refund', log_index: found.logIndex },
      ],
      inputs: await evmMovementInputs(trx, network, r.option_id, r.asset, value),
    });
    // Booked: no longer pending. (Not booked — the refund changed meanwhile — it stays pending.)
    if (movementId !== null) await forgetPendingOutflow(trx, network, found.txHash, found.logIndex);
    return movementId;
  });
  return id !== null;
}
