import type { UserRole } from './scopes.ts';

/**
 * What each dashboard role may do (docs/decisions/0009). Every role reads invoices, queues and
 * timelines. Support acts on customers' cases without moving money; finance reads and exports;
 * developers manage integrations; only owners and admins take actions with money impact, and
 * those need a written reason.
 */
export const PERMISSIONS = {
  read: ['owner', 'admin', 'developer', 'support', 'finance'],
  export: ['owner', 'admin', 'finance'],
  support_action: ['owner', 'admin', 'support'],
  dangerous_action: ['owner', 'admin'],
  read_audit: ['owner', 'admin', 'finance'],
  settings_read: ['owner', 'admin', 'developer'],
  manage_users: ['owner', 'admin'],
} as const satisfies Record<string, readonly UserRole[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: string, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly string[]).includes(role);
}
