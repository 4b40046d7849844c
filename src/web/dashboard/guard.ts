import type { FastifyReply, FastifyRequest } from 'fastify';
import { can, type Permission } from '../../auth/permissions.ts';
import { csrfMatches, readSession, SESSION_COOKIE, type SessionUser } from '../../auth/sessions.ts';
import type { Tally } from '../../context.ts';
import { TallyError } from '../../core/errors.ts';

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/** The session cookie: HttpOnly (no script reads it), SameSite=Strict, Secure over HTTPS, path-scoped. */
export function sessionCookie(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

/** The signed-in user, or a redirect to the login page (null: the reply is already sent). */
export async function currentUser(
  tally: Tally,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<SessionUser | null> {
  const user = await readSession(tally.database, readCookie(request, SESSION_COOKIE), tally.clock.now());
  if (!user) {
    reply.redirect(`/dashboard/login?next=${encodeURIComponent(request.url)}`, 303);
    return null;
  }
  const stores = await tally.database.read
    .selectFrom('users as u')
    .innerJoin('user_credentials as c', 'c.user_id', 'u.id')
    .innerJoin('merchants as m', 'm.id', 'u.merchant_id')
    .select(['u.merchant_id', 'm.name'])
    .where('u.email', '=', user.email)
    .orderBy('m.name')
    .execute();
  return { ...user, stores: stores.map((s) => ({ merchantId: s.merchant_id, name: s.name })) };
}

export function requirePermission(user: SessionUser, permission: Permission): void {
  if (!can(user.role, permission)) {
    throw new TallyError('forbidden', `The ${user.role} role may not do this (${permission}).`);
  }
}

/**
 * Every state-changing dashboard request: the form's CSRF token must be the session's, and a
 * browser-sent Origin must be this host. SameSite=Strict already keeps the cookie off cross-site
 * requests; these are the second and third locks (older browsers, same-site subdomains).
 */
export function checkCsrf(request: FastifyRequest, user: SessionUser, body: Record<string, unknown>): void {
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let host = '';
    try {
      host = new URL(origin).host;
    } catch {}
    if (host !== request.headers.host)
      throw new TallyError('forbidden', 'Cross-origin form refused.', {
        issues: [{ path: 'origin', message: 'is not this dashboard' }],
      });
  }
  if (!csrfMatches(user.csrfToken, body._csrf)) {
    throw new TallyError('forbidden', 'The form token is missing or stale; reload the page.', {
      issues: [{ path: '_csrf', message: 'does not match the session' }],
    });
  }
}
