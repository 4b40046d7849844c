/**
 * What a transaction cost its sender, from its receipt (pure, and through EvmNode.receipts with a
 * canned node answer): anvil has no L1 fee, so OP-stack receipts are written out by hand in the
 * shape Base and Optimism nodes return them.
 */
import { describe, expect, it } from 'vitest';
import { EvmNode } from '../../src/chains/evm/evm-node.ts';
import { receiptFee } from '../../src/chains/evm/receipt-fee.ts';
import type { EvmRpc } from '../../src/chains/evm/rpc-client.ts';
import { getNetwork } from '../../src/core/registry.ts';

/** A native transfer on Base after Jovian: 21,000 gas at 0.01 gwei plus an L1 data fee. */
const BASE_RECEIPT = {
  status: '0x1',
  type: '0x2',
  gasUsed: '0x5208',
  cumulativeGasUsed: '0x1c9c380',
  effectiveGasPrice: '0x989680',
  l1Fee: '0x1b4a6c8e7b',
  l1GasPrice: '0x3b9aca00',
  l1GasUsed: '0x640',
  l1BaseFeeScalar: '0x8dd',
  l1BlobBaseFee: '0x1',
  l1BlobBaseFeeScalar: '0x101c12',
  operatorFeeScalar: '0x0',
  operatorFeeConstant: '0x0',
  logs: [],
};

describe('receiptFee', () => {
  it('is gas used × effective gas price on a chain without extra fees', () => {
    expect(receiptFee({ gasUsed: '0x5208', effectiveGasPrice: '0x3b9aca00' })).toBe(21_000n * 1_000_000_000n);
  });

  it('adds the OP-stack L1 data fee', () => {
    expect(receiptFee(BASE_RECEIPT)).toBe(21_000n * 10_000_000n + 0x1b4a6c8e7bn);
  });

  it('adds the operator fee (Jovian: gas used × scalar × 100 + constant) and blob gas', () => {
    const fee = receiptFee({
      ...BASE_RECEIPT,
      operatorFeeScalar: '0x3',
      operatorFeeConstant: '0x64',
      blobGasUsed: '0x20000',
      blobGasPrice: '0x2',
    });
    expect(fee).toBe(21_000n * 10_000_000n + 0x1b4a6c8e7bn + 21_000n * 3n * 100n + 100n + 0x20000n * 2n);
  });

  it('takes null fields (some nodes send them on non-OP receipts) as absent', () => {
    expect(
      receiptFee({ gasUsed: '0x1', effectiveGasPrice: '0x2', l1Fee: null, operatorFeeScalar: null }),
    ).toBe(2n);
  });

  it('is what EvmNode.receipts reports as the fee a movement books', async () => {
    const rpc = {
      batch: async () => [BASE_RECEIPT, { ...BASE_RECEIPT, status: '0x0' }],
    } as unknown as EvmRpc;
    const node = new EvmNode(rpc, getNetwork('base'));
    const fee = 21_000n * 10_000_000n + 0x1b4a6c8e7bn;
    expect(await node.receipts(['0xa', '0xb'])).toEqual([
      { succeeded: true, fee },
      { succeeded: false, fee },
    ]);
  });
});
