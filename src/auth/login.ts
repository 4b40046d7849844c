import { appendAudit } from '../audit/audit-log.ts';
import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { iso } from '../db/values.ts';
import { DUMMY_HASH, verifyPassword } from './passwords.ts';
import { createSession } from './sessions.ts';

/**
 * Throttling (docs/decisions/0009): at most 5 failed logins per email and 50 per client address in
 * a sliding 15 minutes; past that, logins for it are refused with 429 before the password is even
 * checked, so guessing costs an attacker 15 minutes per 5 tries per account. Counted in the
 * database, so every gateway process sees the same count.
 */
export const THROTTLE = { windowMs: 15 * 60 * 1000, perEmail: 5, perIp: 50 };

export interface LoginResult {
  cookieValue: string;
  csrfToken: string;
  userId: string;
  merchantId: string;
}

export async function login(
  tally: Tally,
  input: { email: string; password: string; ip: string; merchantId?: string | undefined },
): Promise<LoginResult> {
  const { database, clock } = tally;
  const email = input.email.trim().toLowerCase();
  const now = clock.now();
  const since = iso(new Date(now.getTime() - THROTTLE.windowMs));
  const failures = async (column: 'email' | 'ip', value: string) =>
    Number(
      (
        await database.db
          .selectFrom('login_attempts')
          .select((eb) => eb.fn.countAll().as('n'))
          .where(column, '=', value)
          .where('succeeded', '=', 0)
          .where('created_at', '>', since)
          .executeTakeFirstOrThrow()
      ).n,
    );
  if (
    (await failures('email', email)) >= THROTTLE.perEmail ||
    (await failures('ip', input.ip)) >= THROTTLE.perIp
  ) {
    throw new TallyError('rate_limited', 'Too many failed logins; try again in 15 minutes.', {
      retry_after_seconds: THROTTLE.windowMs / 1000,
    });
  }
  const candidates = await database.db
    .selectFrom('users as u')
    .innerJoin('user_credentials as c', 'c.user_id', 'u.id')
    .select(['u.id', 'u.merchant_id', 'c.password_hash'])
    .where('u.email', '=', email)
    // Switching stores signs in again as this email's user in that merchant only.
    .$if(input.merchantId !== undefined, (q) => q.where('u.merchant_id', '=', input.merchantId ?? ''))
    .orderBy('u.id')
    .execute();
  let user: (typeof candidates)[number] | undefined;
  for (const candidate of candidates) {
    if (await verifyPassword(input.password, candidate.password_hash)) {
      user = candidate;
      break;
    }
  }
  if (candidates.length === 0) await verifyPassword(input.password, DUMMY_HASH);
  const record = (succeeded: boolean) =>
    database.db
      .insertInto('login_attempts')
      .values({ id: newId('act'), email, ip: input.ip, succeeded: succeeded ? 1 : 0, created_at: iso(now) })
      .execute();
  if (!user) {
    await record(false);
    await database.write((trx) =>
      appendAudit(
        trx,
        database.dialect,
        {
          merchantId: candidates[0]?.merchant_id ?? null,
          actor: { kind: 'anonymous', id: input.ip, label: email },
          action: 'login.failed',
          target: null,
          reason: null,
          details: { ip: input.ip },
        },
        now,
      ),
    );
    throw new TallyError('unauthenticated', 'Wrong email or password.');
  }
  await record(true);
  const session = await createSession(database.db, { id: user.id, merchantId: user.merchant_id }, now);
  await database.write((trx) =>
    appendAudit(
      trx,
      database.dialect,
      {
        merchantId: user.merchant_id,
        actor: { kind: 'user', id: user.id, label: email },
        action: 'login.succeeded',
        target: null,
        reason: null,
        details: { ip: input.ip },
      },
      now,
    ),
  );
  return { ...session, userId: user.id, merchantId: user.merchant_id };
}
