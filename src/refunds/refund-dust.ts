import { TallyError, validationError } from '../core/errors.ts';
import { formatAmount } from '../core/money.ts';
import { getNetwork } from '../core/registry.ts';
import { DUST_LIMIT } from './bitcoin-psbt.ts';

interface RefundedOption {
  asset: string;
  network: string;
  decimals: number;
}

/** The dust limit stated like a request's amount: "0.00000546 BTC". */
function dustLimitIn(option: RefundedOption): string {
  return `${formatAmount(DUST_LIMIT, option.decimals)} ${option.asset}`;
}

/**
 * A Bitcoin output below the dust limit is non-standard: nodes do not relay it, so a refund that
 * small could be approved and built but never reach the customer. It is refused when asked, not
 * after an approver signed off on it. A partial refund names its amount (422 amount); a full or
 * excess refund's amount is what the invoice holds, so a too-small one is the invoice's state (409).
 * EVM networks have no dust rule.
 */
export function refuseDustRefund(kind: string, amount: bigint, option: RefundedOption): void {
  if (getNetwork(option.network).family !== 'bitcoin' || amount >= DUST_LIMIT) return;
  if (kind === 'partial')
    throw validationError([
      {
        path: 'amount',
        message: `must be at least ${dustLimitIn(option)}: a smaller Bitcoin output is dust that nodes do not relay`,
      },
    ]);
  throw new TallyError(
    'invalid_state',
    `The ${kind} refund would send ${formatAmount(amount, option.decimals)} ${option.asset}, below the ${dustLimitIn(option)} Bitcoin dust limit that nodes relay; nothing was recorded.`,
  );
}
