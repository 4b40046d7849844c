import type { Kysely, Transaction } from 'kysely';
import { TallyError } from '../core/errors.ts';
import type { Schema } from '../db/schema.ts';
import { iso, toDate } from '../db/values.ts';

type Db = Kysely<Schema> | Transaction<Schema>;

/**
 * Dashboard user administration below the web layer. A user without a credential row cannot sign
 * in: that is what "disabled" means here (no schema change, and the users row stays for the audit
 * log and support notes that name it). Setting a new password enables the user again.
 */
export async function listDashboardUsers(db: Db, merchantId: string) {
  const rows = await db
    .selectFrom('users as u')
    .leftJoin('user_credentials as c', 'c.user_id', 'u.id')
    .select(['u.id', 'u.email', 'u.role', 'u.created_at', 'c.user_id as credential'])
    .where('u.merchant_id', '=', merchantId)
    .orderBy('u.id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    email: r.email,
    role: r.role,
    created_at: toDate(r.created_at).toISOString(),
    enabled: r.credential !== null,
  }));
}

export async function loadUser(db: Db, merchantId: string, userId: string) {
  const user = (await listDashboardUsers(db, merchantId)).find((u) => u.id === userId);
  if (!user)
    throw new TallyError('not_found', `No user ${userId}.`, {
      issues: [{ path: 'user_id', message: 'is not a user of this merchant' }],
    });
  return user;
}

/** Replaces (or creates) the user's password hash and ends every session it had. */
export async function putPasswordHash(trx: Transaction<Schema>, userId: string, hash: string, now: Date) {
  await trx.deleteFrom('user_credentials').where('user_id', '=', userId).execute();
  await trx
    .insertInto('user_credentials')
    .values({ user_id: userId, password_hash: hash, updated_at: iso(now) })
    .execute();
  await revokeSessionsOf(trx, userId, now);
}

/** Removes the credential and ends the sessions: the user is signed out everywhere at once. */
export async function disableUser(trx: Transaction<Schema>, userId: string, now: Date): Promise<boolean> {
  const removed = await trx.deleteFrom('user_credentials').where('user_id', '=', userId).executeTakeFirst();
  await revokeSessionsOf(trx, userId, now);
  return Number(removed.numDeletedRows) > 0;
}

async function revokeSessionsOf(trx: Transaction<Schema>, userId: string, now: Date) {
  await trx
    .updateTable('user_sessions')
    .set({ revoked_at: iso(now) })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .execute();
}
