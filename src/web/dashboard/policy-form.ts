import { Value } from '@sinclair/typebox/value';
import { PolicyInput as PolicySchema } from '../../api/schemas.ts';
import { validationError } from '../../core/errors.ts';
import type { Policy, PolicyInput } from '../../invoices/policy.ts';

type Form = Record<string, string | undefined>;

const INTEGER_FIELDS = [
  'expiry_seconds',
  'monitoring_window_seconds',
  'underpayment_tolerance_bps',
  'overpayment_tolerance_bps',
] as const;

/**
 * The settings page's policy form → the same PolicyInput the API's PATCH /v1/merchant takes,
 * checked against the same TypeBox schema, so the dashboard cannot store a policy the API would
 * refuse. Errors name the field as `policy.<field>`. Amount thresholds (decimals of the value
 * currency) are checked afterwards by checkPolicyAmounts on the merged policy, as the API does.
 */
export function parsePolicyForm(form: Form): PolicyInput {
  const input: Record<string, unknown> = {};
  for (const field of INTEGER_FIELDS) {
    const value = (form[field] ?? '').trim();
    if (value === '') continue;
    if (!/^\d{1,10}$/.test(value))
      throw validationError([{ path: `policy.${field}`, message: 'must be a whole number' }]);
    input[field] = Number(value);
  }
  const currency = (form.value_currency ?? '').trim();
  if (currency !== '') input.value_currency = currency;
  // An empty threshold means "never accept zero-confirmation payments".
  const zeroConf = (form.zero_conf_max_value ?? '').trim();
  input.zero_conf_max_value = zeroConf === '' ? null : zeroConf;
  const tiers = (form.confirmation_tiers ?? '').trim();
  if (tiers !== '') {
    try {
      input.confirmation_tiers = JSON.parse(tiers);
    } catch {
      throw validationError([{ path: 'policy.confirmation_tiers', message: 'is not valid JSON' }]);
    }
  } else input.confirmation_tiers = {};
  const first = Value.Errors(PolicySchema, input).First();
  if (first) {
    const path = first.path.replace(/^\//, '').replace(/\//g, '.');
    throw validationError([{ path: `policy.${path}`, message: first.message.toLowerCase() }]);
  }
  return input as PolicyInput;
}

/** The keys whose values differ, for the audit entry: what was, what is. */
export function policyChanges(before: Policy, after: Policy) {
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(after) as Array<keyof Policy>) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key]))
      changed[key] = { from: before[key], to: after[key] };
  }
  return changed;
}
