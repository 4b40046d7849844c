import { readFileSync } from 'node:fs';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { appendAudit } from '../audit/audit-log.ts';
import { verifyAudit } from '../audit/verify-audit.ts';
import { createUser } from '../auth/merchants.ts';
import { USER_ROLES, type UserRole } from '../auth/scopes.ts';
import { generatePassword, setPassword } from '../auth/user-credentials.ts';
import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';
import { existingMerchant } from './merchant-flag.ts';

/** ajv-formats' email pattern, a RegExp (its Format type also allows other shapes). */
const EMAIL = fullFormats.email as RegExp;

type Flags = Record<string, string | boolean | string[] | undefined>;

export const DASHBOARD_USAGE = `  tally user create --merchant MER --email E --role owner|admin|developer|support|finance [--password-stdin]
  tally user password --merchant MER --email E [--password-stdin]
                                       dashboard login: a generated password is printed once, or
                                       the first line of standard input is used
  tally audit verify                   recompute the audit log's hash chain; exit 1 if broken`;

function need(flags: Flags, name: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v === '') throw new TallyError('validation_failed', `--${name} is required.`);
  return v;
}

function password(flags: Flags): { value: string; generated: boolean } {
  if (flags['password-stdin'] === true) {
    return { value: (readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? '').trimEnd(), generated: false };
  }
  return { value: generatePassword(), generated: true };
}

/** The dashboard's CLI commands; null when `command` is not one of them. */
export async function dashboardCommand(
  command: string,
  flags: Flags,
  print: (human: string, data: unknown) => void,
  withTally: <T>(fn: (tally: Tally) => Promise<T>) => Promise<T>,
): Promise<number | null> {
  switch (command) {
    case 'user create': {
      const role = need(flags, 'role');
      if (!(USER_ROLES as readonly string[]).includes(role)) {
        throw new TallyError('validation_failed', `--role must be one of ${USER_ROLES.join(', ')}.`);
      }
      const email = need(flags, 'email');
      // The API's own check (its schema's "email" format), so the CLI creates no user it would refuse.
      if (!EMAIL.test(email))
        throw new TallyError('validation_failed', `--email "${email}" is not an email address.`, {
          issues: [{ path: 'email', message: 'must be an email address' }],
        });
      const pw = password(flags);
      const user = await withTally(async (t) => {
        const u = await createUser(
          t.database.db,
          await existingMerchant(t, flags.merchant),
          email,
          role as UserRole,
          t.clock.now(),
        );
        await setPassword(t.database, u.id, pw.value, t.clock.now());
        await auditCli(t, need(flags, 'merchant'), 'settings.user_create', u.id, {
          email: u.email,
          role: u.role,
        });
        return u;
      });
      print(
        `User ${user.id} (${user.email}, ${user.role}).${pw.generated ? `\nPassword (shown once):\n${pw.value}` : ''}`,
        { ...user, ...(pw.generated ? { password: pw.value } : {}) },
      );
      return 0;
    }
    case 'user password': {
      const pw = password(flags);
      const user = await withTally(async (t) => {
        const row = await t.database.db
          .selectFrom('users')
          .select(['id', 'email'])
          .where('merchant_id', '=', need(flags, 'merchant'))
          .where('email', '=', need(flags, 'email').trim().toLowerCase())
          .executeTakeFirst();
        if (!row) throw new TallyError('not_found', 'No such user for that merchant.');
        await setPassword(t.database, row.id, pw.value, t.clock.now());
        await auditCli(t, need(flags, 'merchant'), 'settings.user_reset_password', row.id, {
          email: row.email,
        });
        return row;
      });
      print(
        `Password set for ${user.email}; their sessions were ended.${pw.generated ? `\nPassword (shown once):\n${pw.value}` : ''}`,
        { id: user.id, ...(pw.generated ? { password: pw.value } : {}) },
      );
      return 0;
    }
    case 'audit verify': {
      const result = await withTally((t) => verifyAudit(t.database.db));
      print(
        result.ok
          ? `Audit log intact: ${result.entries} entries, head #${result.headSeq} ${result.headHash}`
          : `Audit log BROKEN at entry ${result.problem?.seq}: ${result.problem?.reason}`,
        result,
      );
      return result.ok ? 0 : 1;
    }
    default:
      return null;
  }
}

/**
 * Users made or given a password from the CLI are in the audit log like the dashboard's: whoever
 * can run the CLI on the gateway's host acts as the system, and the entry says it came from there.
 */
async function auditCli(
  t: Tally,
  merchantId: string,
  action: string,
  userId: string,
  details: Record<string, unknown>,
): Promise<void> {
  await t.database.write((trx) =>
    appendAudit(
      trx,
      t.database.dialect,
      {
        merchantId,
        actor: { kind: 'system', id: 'cli', label: 'tally CLI' },
        action,
        target: { kind: 'user', id: userId },
        reason: null,
        details: { ...details, via: 'cli' },
      },
      t.clock.now(),
    ),
  );
}
