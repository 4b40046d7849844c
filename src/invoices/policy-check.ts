import { validationError } from '../core/errors.ts';
import { parseAmount } from '../core/money.ts';
import { currencyDecimals, findNetwork } from '../core/registry.ts';
import type { PolicyInput } from './policy.ts';

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
 * not the depth the merchant asked for. Only what the request sends is checked, not the policy
 * merged with what is stored: a key stored before this check existed must not block requests that
 * do not mention it (the merchant replaces it by sending `confirmation_tiers`).
 */
export function checkTierNetworks(sent: PolicyInput | undefined, prefix = 'policy'): void {
  for (const network of Object.keys(sent?.confirmation_tiers ?? {})) {
    if (!findNetwork(network)) {
      throw validationError([
        { path: `${prefix}.confirmation_tiers.${network}`, message: `unknown network "${network}"` },
      ]);
    }
  }
}
