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

/**
 * Completes approved ERC-20 refunds on one EVM network by finding their transfer on chain: a
 * `Transfer(from = the invoice address, to = the refund's destination)` log of the token, of at
 * least the amount the built transaction sends, in a final block after the build. Tally never
 * sees the signed transaction, so the log is the evidence (the EVM watcher matches transfers *to*
 * invoice addresses only). Booked like a Bitcoin movement, in one transaction: the movement, the
 * ledger (invoice addresses credited, refund in transit debited; gas is paid in the native coin
 * from outside the books), the refund completed and `refund_completed` through the transition.
 * Native-coin refunds have no log and are not detected here (docs/decisions/0011).
 */
export async function checkEvmRefunds(tally: Tally, network: string, rpc: EvmRpc): Promise<string[]> {
  const refunds = await tally.database.db
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
    const token = findAsset(r.asset, network)?.contract;
    const built = JSON.parse(r.unsigned_tx ?? '{}') as { from_block?: string };
    if (!token || !r.destination || built.from_block === undefined) continue;
    const fromBlock = BigInt(built.from_block);
    if (final < fromBlock) continue;
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
          pad(r.destination.toLowerCase() as Hex),
        ],
      },
    ]);
    const floor = r.send_amount === null ? unitsFromDb(r.amount) : unitsFromDb(r.send_amount);
    const hit = logs.find((log) => {
      const event = decodeEventLog({ abi: erc20Abi, data: log.data, topics: log.topics as [Hex, ...Hex[]] });
      return event.eventName === 'Transfer' && (event.args as { value: bigint }).value >= floor;
    });
    if (!hit) continue;
    const value = (
      decodeEventLog({ abi: erc20Abi, data: hit.data, topics: hit.topics as [Hex, ...Hex[]] }).args as {
        value: bigint;
      }
    ).value;
    const amount = value < unitsFromDb(r.amount) ? value : unitsFromDb(r.amount);
    await tally.database.write(async (trx) => {
      const changed = await trx
        .updateTable('refunds')
        .set({
          status: 'completed',
          txid: hit.transactionHash,
          fee: '0',
          completed_at: iso(tally.clock.now()),
          updated_at: iso(tally.clock.now()),
        })
        .where('id', '=', r.id)
        .where('status', '=', 'approved')
        .executeTakeFirst();
      if (Number(changed.numUpdatedRows) !== 1) return;
      const movementId = newId('mov');
      await trx
        .insertInto('settlement_movements')
        .values({
          id: movementId,
          merchant_id: r.merchant_id,
          network,
          asset: r.asset,
          txid: hit.transactionHash,
          block_hash: hit.blockHash,
          block_height: Number(BigInt(hit.blockNumber)),
          inputs_value: amount.toString(),
          refunded: amount.toString(),
          swept: '0',
          fee: '0',
          outputs: JSON.stringify([{ to: r.destination, amount: value.toString(), role: 'refund' }]),
          refund_id: r.id,
          batch_id: null,
          seen_at: iso(tally.clock.now()),
        })
        .execute();
      const on = { asset: r.asset, network, fiatCurrency: null, fiatValue: null };
      await insertTransaction(trx, {
        merchantId: r.merchant_id,
        invoiceId: null,
        movementId,
        kind: 'movement',
        cause: hit.transactionHash,
        entries: [
          { account: ACCOUNTS.invoiceAddresses, amount: -amount, ...on },
          { account: ACCOUNTS.refundsInTransit, amount, ...on },
        ],
        now: tally.clock.now(),
      });
      const outcome = await applyFactInTransaction(tally, trx, r.merchant_id, r.invoice_id, {
        kind: 'refund_completed',
        id: `refund:${r.id}`,
        amount,
        actor: { kind: 'system', id: r.id },
      });
      if (outcome.rejected) throw new Error(`refund ${r.id} could not be booked: ${outcome.rejected}`);
    });
    completed.push(r.id);
  }
  return completed;
}
