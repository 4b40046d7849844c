import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/connect.ts';
import type { Schema } from '../db/schema.ts';
import { iso, toDate } from '../db/values.ts';

/**
 * Server-side sessions (docs/decisions/0009). The cookie carries 32 random bytes; the database
 * keeps only their SHA-256, so a leaked database cannot be replayed as a login. Each session has
 * its own CSRF token (synchronizer pattern) that every form posts back. Sessions end after 12 hours
 * or 30 minutes idle, whichever comes first, and on logout.
 */
export const SESSION_COOKIE = 'tally_session';
export const SESSION_MAX_AGE_MS = 12 * 60 * 60 * 1000;
export const SESSION_IDLE_MS = 30 * 60 * 1000;
// Writing last_seen_at on every request would make every page view a write.
const TOUCH_EVERY_MS = 60 * 1000;

export interface SessionUser {
  sessionId: string;
  userId: string;
  merchantId: string;
  email: string;
  role: string;
  csrfToken: string;
  /** Merchants where this email has an enabled user (the store switcher); filled by the web guard. */
  stores?: Array<{ merchantId: string; name: string }>;
}

function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export async function createSession(
  db: Kysely<Schema>,
  user: { id: string; merchantId: string },
  now: Date,
): Promise<{ cookieValue: string; csrfToken: string }> {
  const secret = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  await db
    .insertInto('user_sessions')
    .values({
      id: digest(secret),
      user_id: user.id,
      merchant_id: user.merchantId,
      csrf_token: csrfToken,
      created_at: iso(now),
      last_seen_at: iso(now),
      expires_at: iso(new Date(now.getTime() + SESSION_MAX_AGE_MS)),
      revoked_at: null,
    })
    .execute();
  return { cookieValue: secret, csrfToken };
}

/**
 * The session's user, or null when the cookie is unknown, revoked, expired or idle too long. Read
 * through `database.read` (SQLite's query-only connection on every page view), while the idle
 * clock's touch, a write, goes through `database.db`: on the read connection it failed with
 * SQLITE_READONLY once a session was a minute old, and every page answered 500 from then on.
 */
export async function readSession(
  database: Pick<Database, 'db' | 'read'>,
  cookieValue: string | undefined,
  now: Date,
): Promise<SessionUser | null> {
  if (!cookieValue || cookieValue.length > 100) return null;
  const row = await database.read
    .selectFrom('user_sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['s.id', 's.user_id', 's.merchant_id', 's.csrf_token', 's.expires_at', 's.last_seen_at'])
    .select(['s.revoked_at', 'u.email', 'u.role'])
    .where('s.id', '=', digest(cookieValue))
    .executeTakeFirst();
  if (!row || row.revoked_at !== null) return null;
  const lastSeen = toDate(row.last_seen_at).getTime();
  if (toDate(row.expires_at).getTime() <= now.getTime() || now.getTime() - lastSeen > SESSION_IDLE_MS) {
    return null;
  }
  if (now.getTime() - lastSeen > TOUCH_EVERY_MS) {
    await database.db
      .updateTable('user_sessions')
      .set({ last_seen_at: iso(now) })
      .where('id', '=', row.id)
      .execute();
  }
  return {
    sessionId: row.id,
    userId: row.user_id,
    merchantId: row.merchant_id,
    email: row.email,
    role: row.role,
    csrfToken: row.csrf_token,
  };
}

export async function revokeSession(db: Kysely<Schema>, sessionId: string, now: Date): Promise<void> {
  await db
    .updateTable('user_sessions')
    .set({ revoked_at: iso(now) })
    .where('id', '=', sessionId)
    .execute();
}

/** Constant-time: the token is a secret, compared on every state-changing request. */
export function csrfMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}
