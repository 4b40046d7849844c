export const API_SCOPES = [
  'invoices:read',
  'invoices:write',
  'webhooks:write',
  'refunds:write',
  'admin',
] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export const USER_ROLES = ['owner', 'admin', 'developer', 'support', 'finance'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** `admin` implies every other scope. */
export function hasScope(granted: readonly string[], needed: ApiScope): boolean {
  return granted.includes('admin') || granted.includes(needed);
}
