/**
 * Which transfer out of an invoice address an approved EVM refund waits for (pure): the rule the
 * EVM watcher and the refund job share, the Bitcoin matcher's — to the destination, between the
 * amount the built transaction sends and the amount owed, mined no earlier than it was built.
 */
import { describe, expect, it } from 'vitest';
import { awaitsRefundJob } from '../../src/refunds/evm-refund-match.ts';

const DEST = '0x00000000000000000000000000000000000000Aa';
const refund = {
  status: 'approved',
  destination: DEST,
  amount: '2000000',
  send_amount: '1990000',
  unsigned_tx: JSON.stringify({ from_block: '100' }),
  txid: null,
};
const transfer = (amount: bigint, over: Partial<{ to: string; native: boolean; txid: string }> = {}) => ({
  txid: `0x${'11'.repeat(32)}`,
  to: DEST.toLowerCase(),
  amount,
  native: false,
  ...over,
});

describe('awaitsRefundJob', () => {
  it('takes a transfer between the built amount and the amount owed, both included', () => {
    expect(awaitsRefundJob(refund, transfer(1_990_000n), 100)).toBe(true);
    expect(awaitsRefundJob(refund, transfer(2_000_000n), 101)).toBe(true);
  });

  it('refuses less than the built amount', () => {
    expect(awaitsRefundJob(refund, transfer(1_989_999n), 101)).toBe(false);
  });

  it('refuses more than the amount owed: not this refund (the rule of the Bitcoin matcher)', () => {
    expect(awaitsRefundJob(refund, transfer(2_000_001n), 101)).toBe(false);
    expect(awaitsRefundJob({ ...refund, send_amount: null }, transfer(3_000_000n), 101)).toBe(false);
  });

  it('refuses another destination, an earlier block, a refund not approved, another reported hash', () => {
    expect(awaitsRefundJob(refund, transfer(2_000_000n, { to: `0x${'bb'.repeat(20)}` }), 101)).toBe(false);
    expect(awaitsRefundJob(refund, transfer(2_000_000n), 99)).toBe(false);
    expect(awaitsRefundJob({ ...refund, status: 'completed' }, transfer(2_000_000n), 101)).toBe(false);
    const reported = { ...refund, txid: `0x${'22'.repeat(32)}` };
    expect(awaitsRefundJob(reported, transfer(2_000_000n, { native: true }), 101)).toBe(false);
    expect(awaitsRefundJob(reported, transfer(2_000_000n, { native: true, txid: reported.txid }), 101)).toBe(
      true,
    );
  });
});
