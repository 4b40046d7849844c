import { parseAmount } from '../core/money.ts';
import { currencyDecimals, getNetwork } from '../core/registry.ts';

/**
 * A merchant's payment policy (wire shape, snake_case). Defaults live on the merchant; an invoice
 * may override any field; the merged policy is snapshotted onto the invoice at creation so support
 * can explain later why it needed N confirmations, whatever the defaults are by then.
 */
export interface ConfirmationTier {
  /** Upper bound of the invoice value for this tier in `value_currency`, or null for "any value". */
  max_value: string | null;
  confirmations: number;
}

export interface PolicyInput {
  expiry_seconds?: number;
  monitoring_window_seconds?: number;
  underpayment_tolerance_bps?: number;
  overpayment_tolerance_bps?: number;
  value_currency?: string;
  zero_conf_max_value?: string | null;
  /** Tiers per network id; a network without tiers uses its registry default. */
  confirmation_tiers?: Record<string, ConfirmationTier[]>;
}

export type Policy = Required<PolicyInput>;

export const DEFAULT_POLICY: Policy = {
  expiry_seconds: 15 * 60,
  monitoring_window_seconds: 24 * 60 * 60,
  underpayment_tolerance_bps: 50,
  overpayment_tolerance_bps: 50,
  value_currency: 'USD',
  zero_conf_max_value: null,
  confirmation_tiers: {},
};

/** A new object, always: callers adjust the result (say, the expiry), and `base` may be shared. */
export function mergePolicy(base: Policy, override: PolicyInput | undefined): Policy {
  const merged = { ...base };
  if (!override) return merged;
  for (const [key, value] of Object.entries(override)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

export interface ConfirmationDecision {
  requiredConfirmations: number;
  zeroConfAllowed: boolean;
  reason: string;
}

/**
 * Resolves the depth for one option: the network's tier matching the invoice value, else the
 * network default. Zero-conf only when the value is known to be at or under the threshold.
 * `value` is the invoice price in base units of `priceCurrency`.
 */
export function requiredConfirmations(
  policy: Policy,
  network: string,
  value: bigint,
  priceCurrency: string,
): ConfirmationDecision {
  const net = getNetwork(network);
  const decimals = currencyDecimals(policy.value_currency);
  const comparable = priceCurrency === policy.value_currency && decimals !== undefined;
  const tiers = policy.confirmation_tiers[network];
  let required = net.defaultConfirmations;
  let reason = `network default for ${net.name}`;
  if (tiers && tiers.length > 0) {
    if (!comparable) {
      reason = `network default: price currency ${priceCurrency} is not the policy's ${policy.value_currency}`;
    } else {
      const tier = tiers.find(
        (t) => t.max_value === null || value <= parseAmount(t.max_value, decimals, 'max_value'),
      );
      if (tier) {
        required = tier.confirmations;
        reason =
          tier.max_value === null
            ? 'tier: any value'
            : `tier: value ≤ ${tier.max_value} ${policy.value_currency}`;
      } else {
        // Above every tier: never fewer confirmations than a smaller invoice would need.
        const highest = Math.max(...tiers.map((t) => t.confirmations));
        required = Math.max(highest, net.defaultConfirmations);
        reason = `above the highest tier: the larger of its depth and the ${net.name} default`;
      }
    }
  }
  let zeroConfAllowed = false;
  if (policy.zero_conf_max_value !== null && comparable) {
    zeroConfAllowed = value <= parseAmount(policy.zero_conf_max_value, decimals, 'zero_conf_max_value');
    if (zeroConfAllowed)
      reason += `; zero-conf allowed (value ≤ ${policy.zero_conf_max_value} ${policy.value_currency}, non-RBF only)`;
  }
  return { requiredConfirmations: Math.max(required, 1), zeroConfAllowed, reason };
}
