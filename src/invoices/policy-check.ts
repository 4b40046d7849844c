import { validationError } from '../core/errors.ts';
import { parseAmount } from '../core/money.ts';
import { currencyDecimals, findNetwork } from '../core/registry.ts';
import type { ConfirmationTier, PolicyInput } from './policy.ts';

/**
 * Policy thresholds are compared in base units of `value_currency` when an invoice is created. Check
 * them against that currency's decimals when the policy is sent, so a policy every later invoice
 * would trip on is refused with its field named instead of being stored.
 */
export function checkPolicyAmounts(policy: PolicyInput, fallbackCurrency: string, prefix = 'policy'): void {
  const currency = policy.value_currency ?? fallbackCurrency;
  const decimals = currencyDecimals(currency);
  if (decimals === undefined) {
    throw validationError([{ path: `${prefix}.value_currency`, message: `unknown currency "${currency}"` }]);
  }
  if (policy.zero_conf_max_value != null) {
    parseAmount(policy.zero_conf_max_value, decimals, `${prefix}.zero_conf_max_value`);
  }
  for (const [network, tiers] of Object.entries(policy.confirmation_tiers ?? {})) {
    for (const [i, tier] of tiers.entries()) {
      if (tier.max_value !== null) {
        parseAmount(tier.max_value, decimals, `${prefix}.confirmation_tiers.${network}[${i}].max_value`);
      }
    }
  }
}

/**
 * The confirmation tiers a request sends must name known networks: a misspelt one would be stored
 * and never match an option's network, so its invoices would wait only the network's default depth,
 * not the depth the merchant asked for. They must also be in order: requiredConfirmations() takes
 * the first tier whose `max_value` covers the invoice, so a tier after one with an equal or higher
 * `max_value`, or after the unbounded (null) one, could never apply. Only what the request sends is
 * checked, not the policy merged with what is stored: a key stored before these checks existed
 * must not block requests that do not mention it (the merchant replaces it by sending
 * `confirmation_tiers`).
 */
export function checkTierNetworks(sent: PolicyInput | undefined, prefix = 'policy'): void {
  for (const [network, tiers] of Object.entries(sent?.confirmation_tiers ?? {})) {
    if (!findNetwork(network)) {
      throw validationError([
        { path: `${prefix}.confirmation_tiers.${network}`, message: `unknown network "${network}"` },
      ]);
    }
    checkTierOrder(tiers, `${prefix}.confirmation_tiers.${network}`);
  }
}

/**
 * `max_value`s strictly increasing, the unbounded tier (if any) last. Values are compared exactly,
 * as bigints scaled to the longest fraction among them: the currency's decimals may come from the
 * stored policy, and checkPolicyAmounts (run after this) refuses what that currency cannot express.
 * A string that is not a plain decimal is left to it as well.
 *
 * The confirmations themselves need not increase: a lower tier asking for more confirmations than
 * a higher one is odd but every tier still applies to its values, so it is the merchant's call
 * (and above the highest tier an invoice never needs fewer than any tier asks; see policy.ts).
 */
function checkTierOrder(tiers: ConfirmationTier[], path: string): void {
  const bounded = tiers.map((t) => t.max_value).filter((v): v is string => v !== null);
  if (!bounded.every((v) => PLAIN_DECIMAL.test(v))) return;
  const scale = Math.max(0, ...bounded.map((v) => v.split('.')[1]?.length ?? 0));
  const units = (v: string) => {
    const [whole = '0', fraction = ''] = v.split('.');
    return BigInt(whole + fraction.padEnd(scale, '0'));
  };
  let previous: { value: bigint; text: string } | null = null;
  for (const [i, tier] of tiers.entries()) {
    if (tier.max_value === null) {
      if (i < tiers.length - 1) {
        throw validationError([
          {
            path: `${path}[${i}].max_value`,
            message: 'null (any value) must be the last tier: the tiers after it could never apply',
          },
        ]);
      }
      continue;
    }
    const value = units(tier.max_value);
    if (previous !== null && value <= previous.value) {
      throw validationError([
        {
          path: `${path}[${i}].max_value`,
          message: `must be greater than the previous tier's max_value "${previous.text}": tiers are matched in order, so this one could never apply`,
        },
      ]);
    }
    previous = { value, text: tier.max_value };
  }
}

const PLAIN_DECIMAL = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;
