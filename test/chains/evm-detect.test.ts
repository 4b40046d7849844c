import { describe, expect, it } from 'vitest';
import { matchNativeTransfers, matchTransferLogs, NATIVE_OUTPUT_INDEX } from '../../src/chains/evm/detect.ts';
import type { EvmLog } from '../../src/chains/evm/evm-node.ts';
import { TRANSFER_TOPIC } from '../../src/chains/evm/evm-node.ts';
import { EvmWatchSet } from '../../src/chains/evm/watch-set.ts';
import { findAsset, listAssets } from '../../src/core/registry.ts';

/** The pure matching of Transfer logs and native transfers against watched invoice addresses. */
const POLYGON_USDC = '0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359';
const POLYGON_USDT = '0xc2132D05D31c914a87C6611C10748AEb04B58e8F';
const INVOICE = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const topic = (address: string) => `0x${address.slice(2).toLowerCase().padStart(64, '0')}`;
const amount = (n: bigint) => `0x${n.toString(16).padStart(64, '0')}`;
const tokens = new Map(
  listAssets()
    .filter((a) => a.network === 'polygon' && a.contract)
    .map((a) => [(a.contract as string).toLowerCase(), a]),
);

function log(fields: Partial<EvmLog>): EvmLog {
  return {
    address: POLYGON_USDC.toLowerCase(),
    topics: [TRANSFER_TOPIC, topic('0x000000000000000000000000000000000000cafe'), topic(INVOICE)],
    data: amount(25_000_000n),
    blockNumber: 10,
    blockHash: '0xb1',
    transactionHash: '0xt1',
    logIndex: 3,
    ...fields,
  };
}

function watchSet(network = 'polygon', asset = 'USDC'): EvmWatchSet {
  const set = new EvmWatchSet();
  set.add(INVOICE, { optionId: 'opt_1', network, asset });
  return set;
}

describe('matching EVM transfers', () => {
  it('an allow-listed USDC Transfer to a watched address matches, whatever the letter case', () => {
    const [t] = matchTransferLogs('polygon', [log({})], tokens, watchSet());
    expect(t).toMatchObject({ txid: '0xt1', index: 3, amount: 25_000_000n, misdirection: null });
    expect(t?.asset.code).toBe('USDC');
  });

  it('never credits a contract that is not allow-listed, whatever symbol it claims', () => {
    expect(
      matchTransferLogs(
        'polygon',
        [log({ address: '0x000000000000000000000000000000000000dead' })],
        tokens,
        watchSet(),
      ),
    ).toEqual([]);
  });

  it('ignores ERC-721 transfers (four topics), zero amounts and other watched-less recipients', () => {
    const nft = log({ topics: [...log({}).topics, topic('0x01')] });
    const zero = log({ data: amount(0n) });
    const stranger = log({
      topics: [TRANSFER_TOPIC, topic(INVOICE), topic('0x00000000000000000000000000000000000000aa')],
    });
    expect(matchTransferLogs('polygon', [nft, zero, stranger], tokens, watchSet())).toEqual([]);
  });

  it('classifies another token on the right network as wrong_asset, any token on another network as wrong_network', () => {
    const [usdt] = matchTransferLogs('polygon', [log({ address: POLYGON_USDT })], tokens, watchSet());
    expect(usdt?.misdirection).toBe('wrong_asset');
    const [elsewhere] = matchTransferLogs('polygon', [log({})], tokens, watchSet('ethereum', 'USDC'));
    expect(elsewhere?.misdirection).toBe('wrong_network');
  });

  it('keeps uint256 amounts exact beyond 2^53', () => {
    const huge = 2n ** 200n + 7n;
    const [t] = matchTransferLogs('polygon', [log({ data: amount(huge) })], tokens, watchSet());
    expect(t?.amount).toBe(huge);
  });

  it('native transfers: value to a watched address, at the fixed native index; zero value and contract creation ignored', () => {
    const native = findAsset('POL', 'polygon');
    if (!native) throw new Error('no POL');
    const block = {
      number: 5,
      hash: '0xb5',
      parentHash: '0xb4',
      timestamp: new Date(),
      transactions: [
        { hash: '0xa', from: '0x01', to: INVOICE.toLowerCase(), value: 10n ** 18n },
        { hash: '0xb', from: '0x01', to: INVOICE, value: 0n },
        { hash: '0xc', from: '0x01', to: null, value: 5n },
      ],
    };
    const found = matchNativeTransfers('polygon', block, native, watchSet('polygon', 'POL'));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      txid: '0xa',
      index: NATIVE_OUTPUT_INDEX,
      amount: 10n ** 18n,
      misdirection: null,
    });
    // POL sent to an address whose option asks for USDC is money in the wrong asset.
    expect(matchNativeTransfers('polygon', block, native, watchSet())[0]?.misdirection).toBe('wrong_asset');
  });
});
