import type { Kysely } from 'kysely';
import { TallyError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Schema } from '../db/schema.ts';
import { iso, toDate } from '../db/values.ts';
import { DEFAULT_POLICY, mergePolicy, type Policy, type PolicyInput } from '../invoices/policy.ts';
import type { UserRole } from './scopes.ts';

export interface Merchant {
  id: string;
  name: string;
  policy: Policy;
  createdAt: Date;
}

export async function createMerchant(
  db: Kysely<Schema>,
  name: string,
  now: Date,
  policy?: PolicyInput,
): Promise<Merchant> {
  const merchant = { id: newId('mer'), name, policy: mergePolicy(DEFAULT_POLICY, policy), createdAt: now };
  await db
    .insertInto('merchants')
    .values({ id: merchant.id, name, policy: JSON.stringify(merchant.policy), created_at: iso(now) })
    .execute();
  return merchant;
}

export async function getMerchant(db: Kysely<Schema>, id: string): Promise<Merchant> {
  const row = await db.selectFrom('merchants').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new TallyError('not_found', `No merchant ${id}.`);
  return {
    id: row.id,
    name: row.name,
    policy: { ...DEFAULT_POLICY, ...(JSON.parse(row.policy) as Policy) },
    createdAt: toDate(row.created_at),
  };
}

export async function updateMerchant(
  db: Kysely<Schema>,
  id: string,
  changes: { name?: string; policy?: PolicyInput },
): Promise<Merchant> {
  const current = await getMerchant(db, id);
  const next = { name: changes.name ?? current.name, policy: mergePolicy(current.policy, changes.policy) };
  await db
    .updateTable('merchants')
    .set({ name: next.name, policy: JSON.stringify(next.policy) })
    .where('id', '=', id)
    .execute();
  return { ...current, ...next };
}

export function serializeMerchant(m: Merchant) {
  return {
    id: m.id,
    object: 'merchant' as const,
    name: m.name,
    policy: m.policy,
    created_at: m.createdAt.toISOString(),
  };
}

export async function createUser(
  db: Kysely<Schema>,
  merchantId: string,
  email: string,
  role: UserRole,
  now: Date,
) {
  const id = newId('usr');
  const normalized = email.trim().toLowerCase();
  const existing = await db
    .selectFrom('users')
    .select('id')
    .where('merchant_id', '=', merchantId)
    .where('email', '=', normalized)
    .executeTakeFirst();
  if (existing)
    throw new TallyError('duplicate', `A user with email ${normalized} already exists.`, {
      issues: [{ path: 'email', message: 'is already taken' }],
    });
  await db
    .insertInto('users')
    .values({ id, merchant_id: merchantId, email: normalized, role, created_at: iso(now) })
    .execute();
  return { id, object: 'user' as const, email: normalized, role, created_at: now.toISOString() };
}

export async function listUsers(db: Kysely<Schema>, merchantId: string) {
  const rows = await db
    .selectFrom('users')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    object: 'user' as const,
    email: r.email,
    role: r.role,
    created_at: toDate(r.created_at).toISOString(),
  }));
}

export async function updateUserRole(db: Kysely<Schema>, merchantId: string, userId: string, role: UserRole) {
  const res = await db
    .updateTable('users')
    .set({ role })
    .where('id', '=', userId)
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) throw new TallyError('not_found', `No user ${userId}.`);
  const rows = await listUsers(db, merchantId);
  const user = rows.find((u) => u.id === userId);
  if (!user) throw new TallyError('not_found', `No user ${userId}.`);
  return user;
}
