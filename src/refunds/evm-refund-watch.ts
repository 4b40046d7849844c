import { decodeEventLog, erc20Abi, type Hex, pad } from 'viem';
import type { EvmRpc } from '../chains/evm/rpc-client.ts';
import type { Tally } from '../context.ts';
import { newId } from '../core/ids.ts';
import { unitsFromDb } from '../core/money.ts';
import { findAsset, getNetwork } from '../core/registry.ts';
import '../db/schema-money.ts';
import { iso } from '../db/values.ts';
import { applyFactInTransaction } from '../invoices/apply-fact.ts';
import { ACCOUNTS } from '../ledger/accounts.ts';
import { insertTransaction } from '../ledger/book.ts';

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
  merchant_id: string;
  invoice_id: string;
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
}

/**
 * Completes approved EVM refunds once their transaction is final (docs/decisions/0011). Tally
 * never sees the signed transaction, and the EVM watcher matches transfers *to* invoice
 * addresses only, so:
 *  - a token refund is found by its `Transfer(from = invoice address, to = destination)` log of at
 *    least the built amount, since the block the transaction was built at;
 *  - a native-coin refund has no log: the merchant tells Tally its hash
 *    (`POST /v1/refunds/{id}/transaction-hash`), and it counts only if the chain confirms it — sent
 *    from the invoice address to the destination, at least the built amount, succeeded, final.
 * Booked like a Bitcoin movement, in one transaction, once: the movement, the ledger, the refund
 * completed and `refund_completed` through the invoice's transition (status, event).
 */
export async function checkEvmRefunds(tally: Tally, network: string, rpc: EvmRpc): Promise<string[]> {
  const refunds: OpenRefund[] = await tally.database.db
    .selectFrom('refunds')
    .innerJoin('payment_options', 'payment_options.id', 'refunds.option_id')
    .select([
      'refunds.id',
      'refunds.merchant_id',
      'refunds.invoice_id',
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
    .execute();
  const completed: string[] = [];
  if (refunds.length === 0) return completed;
  const final = await finalBlock(rpc, network);
  for (const r of refunds) {
    const token = findAsset(r.asset, network)?.contract ?? null;
    const built = JSON.parse(r.unsigned_tx ?? '{}') as { from_block?: string };
    if (!r.destination || built.from_block === undefined) continue;
    const floor = unitsFromDb(r.send_amount ?? r.amount);
    // One refund that cannot be booked (e.g. a transaction already booked for another refund)
    // must not stop the others on this network: log it and go on; the next run tries it again.
    try {
      const found = token
        ? await findTokenTransfer(rpc, token, r, BigInt(built.from_block), final, floor)
        : await verifyNativeTransfer(rpc, r, BigInt(built.from_block), final, floor);
      if (!found) continue;
      if (await book(tally, network, r, found)) completed.push(r.id);
    } catch (error) {
      tally.log.warn({ refund: r.id, err: (error as Error).message }, 'EVM refund not booked');
    }
  }
  return completed;
}

async function findTokenTransfer(
  rpc: EvmRpc,
  token: string,
  r: OpenRefund,
  fromBlock: bigint,
  final: bigint,
  floor: bigint,
): Promise<Found | null> {
  if (final < fromBlock) return null;
  const logs = await rpc.call<
    Array<{ data: Hex; topics: Hex[]; transactionHash: Hex; blockHash: Hex; blockNumber: Hex }>
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
  for (const log of logs) {
    const event = decodeEventLog({ abi: erc20Abi, data: log.data, topics: log.topics as [Hex, ...Hex[]] });
    const value = event.eventName === 'Transfer' ? (event.args as { value: bigint }).value : 0n;
    if (value >= floor)
      return {
        txHash: log.transactionHash,
        blockHash: log.blockHash,
        blockNumber: BigInt(log.blockNumber),
        value,
        fee: 0n,
      };
  }
  return null;
}

async function verifyNativeTransfer(
  rpc: EvmRpc,
  r: OpenRefund,
  fromBlock: bigint,
  final: bigint,
  floor: bigint,
): Promise<Found | null> {
  if (!r.txid) return null;
  const [tx, receipt] = await rpc.batch<{
    from: string;
    to: string | null;
    value: Hex;
    blockHash: Hex | null;
    blockNumber: Hex | null;
    status?: Hex;
    gasUsed?: Hex;
    effectiveGasPrice?: Hex;
  } | null>([
    { method: 'eth_getTransactionByHash', params: [r.txid] },
    { method: 'eth_getTransactionReceipt', params: [r.txid] },
  ]);
  if (!tx || !receipt || tx.blockNumber === null || tx.blockHash === null) return null;
  // Mined after the refund transaction was built: an older transfer to the same address is not it.
  const height = BigInt(tx.blockNumber);
  if (height > final || height < fromBlock || receipt.status !== '0x1') return null;
  const value = BigInt(tx.value);
  const same = (a: string | null, b: string | null) => (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
  if (!same(tx.from, r.address) || !same(tx.to, r.destination) || value < floor) return null;
  const fee = BigInt(receipt.gasUsed ?? '0x0') * BigInt(receipt.effectiveGasPrice ?? '0x0');
  return { txHash: r.txid as Hex, blockHash: tx.blockHash, blockNumber: BigInt(tx.blockNumber), value, fee };
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

async function book(tally: Tally, network: string, r: OpenRefund, found: Found): Promise<boolean> {
  const owed = unitsFromDb(r.amount);
  // As on Bitcoin: a full native refund paid its gas out of the refund (the customer bears it).
  const feeInRefund = owed > found.value ? min(owed - found.value, found.fee) : 0n;
  const refunded = min(found.value + feeInRefund, owed);
  const merchantFee = found.fee - feeInRefund;
  const now = tally.clock.now();
  return tally.database.write(async (trx) => {
    const changed = await trx
      .updateTable('refunds')
      .set({
        status: 'completed',
        txid: found.txHash,
        fee: found.fee.toString(),
        completed_at: iso(now),
        updated_at: iso(now),
      })
      .where('id', '=', r.id)
      .where('status', '=', 'approved')
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) !== 1) return false;
    const movementId = newId('mov');
    await trx
      .insertInto('settlement_movements')
      .values({
        id: movementId,
        merchant_id: r.merchant_id,
        network,
        asset: r.asset,
        txid: found.txHash,
        block_hash: found.blockHash,
        block_height: Number(found.blockNumber),
        inputs_value: (refunded + merchantFee).toString(),
        refunded: refunded.toString(),
        swept: '0',
        fee: found.fee.toString(),
        outputs: JSON.stringify([{ to: r.destination, amount: found.value.toString(), role: 'refund' }]),
        refund_id: r.id,
        batch_id: null,
        seen_at: iso(now),
      })
      .execute();
    const on = { asset: r.asset, network, fiatCurrency: null, fiatValue: null };
    await insertTransaction(trx, {
      merchantId: r.merchant_id,
      invoiceId: null,
      movementId,
      kind: 'movement',
      cause: found.txHash,
      entries: [
        { account: ACCOUNTS.invoiceAddresses, amount: -(refunded + merchantFee), ...on },
        { account: ACCOUNTS.refundsInTransit, amount: refunded, ...on },
        { account: ACCOUNTS.networkFees, amount: merchantFee, ...on },
      ].filter((e) => e.amount !== 0n),
      now,
    });
    const outcome = await applyFactInTransaction(tally, trx, r.merchant_id, r.invoice_id, {
      kind: 'refund_completed',
      id: `refund:${r.id}`,
      amount: refunded,
      actor: { kind: 'system', id: r.id },
    });
    if (outcome.rejected) throw new Error(`refund ${r.id} could not be booked: ${outcome.rejected}`);
    return true;
  });
}
