/**
 * A transaction receipt as nodes return it: the fields that say what the sender paid. Hex
 * quantities; the OP-stack and blob fields are absent where they do not apply.
 */
export interface FeeReceipt {
  gasUsed?: string;
  effectiveGasPrice?: string;
  /** OP stack (Base, Optimism): the L1 data fee, charged to the sender on top of L2 gas. */
  l1Fee?: string | null;
  /** OP stack from Isthmus on: the operator fee's parameters (the receipt has no total). */
  operatorFeeScalar?: string | null;
  operatorFeeConstant?: string | null;
  /** EIP-4844 blob transactions: blob gas is paid apart from execution gas. */
  blobGasUsed?: string | null;
  blobGasPrice?: string | null;
}

const big = (v: string | null | undefined): bigint => (v === undefined || v === null ? 0n : BigInt(v));

/**
 * Everything the sender paid for the transaction, in the native coin's base units, from its
 * receipt. gasUsed × effectiveGasPrice alone under-books OP-stack chains, where the sender also
 * pays the L1 data fee (`l1Fee`) and the operator fee — the movement's fee would be short and the
 * books would hold more at the address than the chain. Arbitrum folds its L1 cost into gasUsed, so
 * nothing is added there. The operator fee is computed with the Jovian formula (gasUsed × scalar ×
 * 100 + constant), live on OP-stack mainnets since December 2025; Base and Optimism set both
 * parameters to 0, so there it adds nothing either way.
 */
export function receiptFee(r: FeeReceipt): bigint {
  const gasUsed = big(r.gasUsed);
  const execution = gasUsed * big(r.effectiveGasPrice);
  const operator = gasUsed * big(r.operatorFeeScalar) * 100n + big(r.operatorFeeConstant);
  const blob = big(r.blobGasUsed) * big(r.blobGasPrice);
  return execution + big(r.l1Fee) + operator + blob;
}
