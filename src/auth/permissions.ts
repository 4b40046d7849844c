import { API_SCOPES, type ApiScope, type UserRole } from './scopes.ts';

/**
 * What each dashboard role may do (docs/decisions/0009). Every role reads invoices, queues and
 * timelines. Support acts on customers' cases without moving money; finance reads and exports;
 * developers manage integrations (webhook endpoints, API keys); only owners and admins take
 * actions with money impact or change who may do what, and those need a written reason.
 */
export const PERMISSIONS = {
  read: ['owner', 'admin', 'developer', 'support', 'finance'],
  export: ['owner', 'admin', 'finance'],
  support_action: ['owner', 'admin', 'support'],
  dangerous_action: ['owner', 'admin'],
  read_audit: ['owner', 'admin', 'finance'],
  settings_read: ['owner', 'admin', 'developer'],
  manage_policy: ['owner', 'admin'],
  manage_webhooks: ['owner', 'admin', 'developer'],
  manage_api_keys: ['owner', 'admin', 'developer'],
  manage_users: ['owner', 'admin'],
} as const satisfies Record<string, readonly UserRole[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: string, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly string[]).includes(role);
}

/**
 * API key scopes a role may put on a key it creates, or revoke. A key must not do more than the
 * person who made it: a developer's keys get neither `admin` (mark paid, settings, wallets) nor
 * `refunds:write` (money leaving), or managing keys would be a way around the role table above.
 */
export const GRANTABLE_SCOPES: Record<UserRole, readonly ApiScope[]> = {
  owner: API_SCOPES,
  admin: API_SCOPES,
  developer: ['invoices:read', 'invoices:write', 'webhooks:write'],
  support: [],
  finance: [],
};

/**
 * Roles a user-manager may give, change or take away. Only an owner makes or unmakes an owner, so
 * an admin cannot lock the owners out; nobody changes or disables their own user (ask another),
 * so the last owner cannot remove themselves by mistake.
 */
export const ASSIGNABLE_ROLES: Record<UserRole, readonly UserRole[]> = {
  owner: ['owner', 'admin', 'developer', 'support', 'finance'],
  admin: ['admin', 'developer', 'support', 'finance'],
  developer: [],
  support: [],
  finance: [],
};

export function mayGrantScopes(role: string, scopes: readonly string[]): boolean {
  const grantable = (GRANTABLE_SCOPES as Record<string, readonly string[]>)[role] ?? [];
  return scopes.every((s) => grantable.includes(s));
}

export function mayAssignRole(role: string, target: string): boolean {
  return ((ASSIGNABLE_ROLES as Record<string, readonly string[]>)[role] ?? []).includes(target);
}
