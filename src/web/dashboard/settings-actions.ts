import type { Transaction } from 'kysely';
import { type AuditEntry, appendAudit } from '../../audit/audit-log.ts';
import { createApiKey, listApiKeys, revokeApiKey } from '../../auth/api-keys.ts';
import { createUser, getMerchant, updateMerchant, updateUserRole } from '../../auth/merchants.ts';
import { hashPassword } from '../../auth/passwords.ts';
import { mayAssignRole, mayGrantScopes, type Permission } from '../../auth/permissions.ts';
import { API_SCOPES, type ApiScope, USER_ROLES, type UserRole } from '../../auth/scopes.ts';
import type { SessionUser } from '../../auth/sessions.ts';
import { disableUser, loadUser, putPasswordHash } from '../../auth/user-admin.ts';
import { generatePassword } from '../../auth/user-credentials.ts';
import type { Tally } from '../../context.ts';
import { TallyError, validationError } from '../../core/errors.ts';
import type { Schema } from '../../db/schema.ts';
import { forgetCreationContext } from '../../invoices/creation-context.ts';
import type { PolicyInput } from '../../invoices/policy.ts';
import { mergePolicy } from '../../invoices/policy.ts';
import { checkPolicyAmounts, checkTierNetworks } from '../../invoices/policy-check.ts';
import {
  createEndpoint,
  loadEndpoint,
  rotateSecret,
  updateEndpoint,
} from '../../webhooks/endpoint-service.ts';
import { EVENT_TYPES } from '../../webhooks/event-catalogue.ts';
import { requirePermission } from './guard.ts';
import { parsePolicyForm, policyChanges } from './policy-form.ts';

/**
 * Settings changes from the dashboard (docs/decisions/0009). Each names its permission in
 * src/auth/permissions.ts (the one table) and whether it needs a written reason: every change to
 * money (the policy) or access (keys, users, webhook secrets and new endpoints) does. Each writes
 * one audit entry: in the same transaction as the change where this module owns the write, right
 * after the webhook module's own transaction where it does not (as for invoice actions).
 */
export const SETTINGS_ACTIONS = {
  policy_update: { permission: 'manage_policy', reason: true },
  webhook_create: { permission: 'manage_webhooks', reason: true },
  webhook_enable: { permission: 'manage_webhooks', reason: false },
  webhook_disable: { permission: 'manage_webhooks', reason: false },
  webhook_rotate: { permission: 'manage_webhooks', reason: true },
  api_key_create: { permission: 'manage_api_keys', reason: true },
  api_key_revoke: { permission: 'manage_api_keys', reason: true },
  user_create: { permission: 'manage_users', reason: true },
  user_role: { permission: 'manage_users', reason: true },
  user_disable: { permission: 'manage_users', reason: true },
  user_reset_password: { permission: 'manage_users', reason: true },
} as const satisfies Record<string, { permission: Permission; reason: boolean }>;
export type SettingsAction = keyof typeof SETTINGS_ACTIONS;

type Form = Record<string, string | undefined>;

/** What the page shows after the change; `secret` is shown once, on this response only. */
export interface SettingsOutcome {
  action: SettingsAction;
  secret?: { label: string; value: string };
}

function field(form: Form, name: string, max: number): string {
  const value = (form[name] ?? '').trim();
  if (value === '') throw validationError([{ path: name, message: 'is required' }]);
  if (value.length > max)
    throw validationError([{ path: name, message: `must be at most ${max} characters` }]);
  return value;
}

function forbidden(path: string, message: string): TallyError {
  return new TallyError('forbidden', `${path}: ${message}`, { issues: [{ path, message }] });
}

/** Checkboxes are named `<prefix>.<value>` (the form parser keeps one value per name). */
function checked(form: Form, prefix: string): string[] {
  return Object.keys(form)
    .filter((k) => k.startsWith(`${prefix}.`) && form[k])
    .map((k) => k.slice(prefix.length + 1));
}

function eventList(form: Form): string[] {
  const raw = (form.events ?? '').trim();
  if (raw === '' || raw === '*') return ['*'];
  const events = [...new Set(raw.split(/[\s,]+/).filter(Boolean))];
  const unknown = events.find((e) => !(EVENT_TYPES as readonly string[]).includes(e));
  if (unknown) throw validationError([{ path: 'events', message: `"${unknown}" is not an event type` }]);
  return events;
}

export async function runSettingsAction(
  tally: Tally,
  user: SessionUser,
  form: Form,
): Promise<SettingsOutcome> {
  const action = form.action as SettingsAction;
  if (!Object.hasOwn(SETTINGS_ACTIONS, action))
    throw validationError([{ path: 'action', message: 'is not a known settings action' }]);
  const rule = SETTINGS_ACTIONS[action];
  requirePermission(user, rule.permission);
  const reasonText = (form.reason ?? '').trim();
  if (rule.reason && reasonText === '') throw validationError([{ path: 'reason', message: 'is required' }]);
  if (reasonText.length > 1000)
    throw validationError([{ path: 'reason', message: 'must be at most 1000 characters' }]);
  const reason = reasonText === '' ? null : reasonText;
  const { database, clock } = tally;
  const merchantId = user.merchantId;
  const entry = (target: AuditEntry['target'], details: Record<string, unknown>): AuditEntry => ({
    merchantId,
    actor: { kind: 'user', id: user.userId, label: user.email },
    action: `settings.${action}`,
    target,
    reason,
    details,
  });
  const audit = (trx: Transaction<Schema>, target: AuditEntry['target'], details: Record<string, unknown>) =>
    appendAudit(trx, database.dialect, entry(target, details), clock.now());
  const auditAfter = (target: AuditEntry['target'], details: Record<string, unknown>) =>
    database.write((trx) => audit(trx, target, details));

  switch (action) {
    case 'policy_update': {
      const input = parsePolicyForm(form);
      const current = await getMerchant(database.read, merchantId);
      checkTierNetworks(changedTiers(input, current.policy.confirmation_tiers));
      const next = mergePolicy(current.policy, input);
      checkPolicyAmounts(next, current.policy.value_currency);
      await database.write(async (trx) => {
        await updateMerchant(trx, merchantId, { policy: input });
        await audit(
          trx,
          { kind: 'merchant', id: merchantId },
          { changes: policyChanges(current.policy, next) },
        );
      });
      forgetCreationContext(tally, merchantId);
      return { action };
    }
    case 'webhook_create': {
      const description = (form.description ?? '').trim();
      if (description.length > 500)
        throw validationError([{ path: 'description', message: 'must be at most 500 characters' }]);
      const created = await createEndpoint(tally, merchantId, {
        url: field(form, 'url', 2000),
        events: eventList(form),
        ...(description ? { description } : {}),
      });
      // Never the secret in the log: the entry says an endpoint exists, not how to forge its signatures.
      await auditAfter(
        { kind: 'webhook_endpoint', id: created.id },
        { url: created.url, events: created.events },
      );
      return { action, secret: { label: created.url, value: created.secret } };
    }
    case 'webhook_enable':
    case 'webhook_disable': {
      const id = field(form, 'endpoint_id', 40);
      await loadEndpoint(tally, merchantId, id);
      const updated = await updateEndpoint(tally, merchantId, id, { enabled: action === 'webhook_enable' });
      await auditAfter({ kind: 'webhook_endpoint', id }, { url: updated.url, enabled: updated.enabled });
      return { action };
    }
    case 'webhook_rotate': {
      const id = field(form, 'endpoint_id', 40);
      const overlapText = (form.overlap_seconds ?? '86400').trim();
      const overlap = Number(overlapText);
      if (!/^\d{1,6}$/.test(overlapText) || overlap > 7 * 86_400)
        throw validationError([{ path: 'overlap_seconds', message: 'must be 0 to 604800 seconds' }]);
      const rotated = await rotateSecret(tally, merchantId, id, overlap);
      await auditAfter(
        { kind: 'webhook_endpoint', id },
        { overlap_seconds: overlap, previous_secret_expires_at: rotated.previous_secret_expires_at },
      );
      return { action, secret: { label: rotated.url, value: rotated.secret } };
    }
    case 'api_key_create': {
      const name = field(form, 'name', 100);
      const scopes = checked(form, 'scope');
      if (scopes.length === 0)
        throw validationError([{ path: 'scopes', message: 'choose at least one scope' }]);
      const unknown = scopes.find((s) => !(API_SCOPES as readonly string[]).includes(s));
      if (unknown) throw validationError([{ path: 'scopes', message: `"${unknown}" is not a scope` }]);
      if (!mayGrantScopes(user.role, scopes))
        throw forbidden('scopes', `the ${user.role} role may not grant ${scopes.join(', ')}`);
      const key = await database.write(async (trx) => {
        const created = await createApiKey(trx, merchantId, name, scopes as ApiScope[], clock.now());
        await audit(trx, { kind: 'api_key', id: created.id }, { name, scopes });
        return created;
      });
      return { action, secret: { label: name, value: key.token } };
    }
    case 'api_key_revoke': {
      const id = field(form, 'key_id', 40);
      const key = (await listApiKeys(database.read, merchantId)).find((k) => k.id === id);
      if (!key)
        throw new TallyError('not_found', `No API key ${id}.`, {
          issues: [{ path: 'key_id', message: 'is not a key of this merchant' }],
        });
      if (!mayGrantScopes(user.role, key.scopes))
        throw forbidden('key_id', `the ${user.role} role may not revoke a key with ${key.scopes.join(', ')}`);
      await database.write(async (trx) => {
        if (!(await revokeApiKey(trx, merchantId, id, clock.now())))
          throw new TallyError('invalid_state', `API key ${id} is already revoked.`);
        await audit(trx, { kind: 'api_key', id }, { name: key.name, scopes: key.scopes });
      });
      return { action };
    }
    case 'user_create': {
      const email = field(form, 'email', 254).toLowerCase();
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))
        throw validationError([{ path: 'email', message: 'is not an email address' }]);
      const role = pickRole(user, form);
      const password = generatePassword();
      // scrypt before the transaction: the writer is not held for the hash's 100+ ms.
      const hash = await hashPassword(password);
      const created = await database.write(async (trx) => {
        const u = await createUser(trx, merchantId, email, role, clock.now());
        await putPasswordHash(trx, u.id, hash, clock.now());
        await audit(trx, { kind: 'user', id: u.id }, { email, role });
        return u;
      });
      return { action, secret: { label: created.email, value: password } };
    }
    case 'user_role': {
      const target = await manageableUser(tally, user, form);
      const role = pickRole(user, form);
      await database.write(async (trx) => {
        await updateUserRole(trx, merchantId, target.id, role);
        await audit(
          trx,
          { kind: 'user', id: target.id },
          { email: target.email, from: target.role, to: role },
        );
      });
      return { action };
    }
    case 'user_disable': {
      const target = await manageableUser(tally, user, form);
      await database.write(async (trx) => {
        if (!(await disableUser(trx, target.id, clock.now())))
          throw new TallyError('invalid_state', `${target.email} is already disabled.`);
        await audit(trx, { kind: 'user', id: target.id }, { email: target.email });
      });
      return { action };
    }
    case 'user_reset_password': {
      const target = await manageableUser(tally, user, form);
      const password = generatePassword();
      const hash = await hashPassword(password);
      await database.write(async (trx) => {
        await putPasswordHash(trx, target.id, hash, clock.now());
        await audit(
          trx,
          { kind: 'user', id: target.id },
          { email: target.email, was_enabled: target.enabled },
        );
      });
      // Said where the password is shown: this also undid someone's disable.
      const label = target.enabled ? target.email : `${target.email} (enabled again)`;
      return { action, secret: { label, value: password } };
    }
    default: {
      const never: never = action;
      throw validationError([{ path: 'action', message: `unknown ${String(never)}` }]);
    }
  }
}

function pickRole(user: SessionUser, form: Form): UserRole {
  const role = field(form, 'role', 20);
  if (!(USER_ROLES as readonly string[]).includes(role))
    throw validationError([{ path: 'role', message: `must be one of ${USER_ROLES.join(', ')}` }]);
  if (!mayAssignRole(user.role, role))
    throw forbidden('role', `the ${user.role} role may not assign ${role}`);
  return role as UserRole;
}

/** Another user of this merchant whose current role the signed-in user may manage. */
async function manageableUser(tally: Tally, user: SessionUser, form: Form) {
  const target = await loadUser(tally.database.read, user.merchantId, field(form, 'user_id', 40));
  if (target.id === user.userId) throw forbidden('user_id', 'you cannot change your own user; ask another');
  if (!mayAssignRole(user.role, target.role))
    throw forbidden('user_id', `the ${user.role} role may not manage a ${target.role}`);
  return target;
}

/**
 * The policy form sends every stored tier back, changed or not. The API checks only the tiers a
 * request sends (policy-check.ts), so a tier stored before a check existed does not block an edit
 * of something else; here that means only the networks whose tiers the form changes.
 */
function changedTiers(input: PolicyInput, stored: PolicyInput['confirmation_tiers']): PolicyInput {
  const sent = input.confirmation_tiers;
  if (!sent) return input;
  const changed = Object.entries(sent).filter(
    ([network, tiers]) => JSON.stringify(tiers) !== JSON.stringify(stored?.[network]),
  );
  return { ...input, confirmation_tiers: Object.fromEntries(changed) };
}
