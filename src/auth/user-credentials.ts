import { randomBytes } from 'node:crypto';
import { TallyError } from '../core/errors.ts';
import type { Database } from '../db/connect.ts';
import { iso } from '../db/values.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from './passwords.ts';

/** Sets (or replaces) a user's dashboard password; ends the user's open sessions. */
export async function setPassword(database: Database, userId: string, password: string, now: Date) {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > 1024) {
    throw new TallyError('validation_failed', `password: must be ${MIN_PASSWORD_LENGTH} to 1024 characters`, {
      issues: [{ path: 'password', message: `must be ${MIN_PASSWORD_LENGTH} to 1024 characters` }],
    });
  }
  const passwordHash = await hashPassword(password);
  await database.write(async (trx) => {
    const existing = await trx
      .selectFrom('user_credentials')
      .select('user_id')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (existing) {
      await trx
        .updateTable('user_credentials')
        .set({ password_hash: passwordHash, updated_at: iso(now) })
        .where('user_id', '=', userId)
        .execute();
    } else {
      await trx
        .insertInto('user_credentials')
        .values({ user_id: userId, password_hash: passwordHash, updated_at: iso(now) })
        .execute();
    }
    await trx
      .updateTable('user_sessions')
      .set({ revoked_at: iso(now) })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
  });
}

/** A random password for the CLI to print once: 18 bytes, 24 base64url characters. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
