import type { FastifyInstance } from 'fastify';
import { appendAudit } from '../../audit/audit-log.ts';
import { login } from '../../auth/login.ts';
import { revokeSession, SESSION_MAX_AGE_MS } from '../../auth/sessions.ts';
import type { Tally } from '../../context.ts';
import { TallyError, validationError } from '../../core/errors.ts';
import { html } from '../html.ts';
import { en } from '../i18n/en.ts';
import { page } from '../layout.ts';
import { sendHtml } from '../respond.ts';
import { checkCsrf, currentUser, sessionCookie } from './guard.ts';

const t = en.dashboard;
type Form = Record<string, string | undefined>;

/** Only a path inside the dashboard: an open redirect after login would be a phishing aid. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/dashboard(\/[^/\\]|$|\?)/.test(next) && !next.includes('//')
    ? next
    : '/dashboard';
}

export function loginPage(next: string, error?: string): string {
  return page({
    title: `${t.signIn} · ${t.title}`,
    bodyClass: 'dash',
    body: html`<main class="login"><h1>${t.title}</h1>${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/dashboard/login"><input type="hidden" name="next" value="${next}">
<label for="email">${t.email}</label><input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">${t.password}</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<p><button class="primary" type="submit">${t.signIn}</button></p></form></main>`,
  });
}

export function registerLogin(server: FastifyInstance, tally: Tally): void {
  server.get<{ Querystring: Form }>('/dashboard/login', async (request, reply) =>
    sendHtml(request, reply, loginPage(safeNext(request.query.next))),
  );

  server.post<{ Body: Form }>('/dashboard/login', async (request, reply) => {
    const body = request.body ?? {};
    const next = safeNext(body.next);
    if (typeof body.email !== 'string' || typeof body.password !== 'string' || body.email.length > 254) {
      return sendHtml(request, reply, loginPage(next, t.wrongLogin), 422);
    }
    try {
      const session = await login(tally, { email: body.email, password: body.password, ip: request.ip });
      reply.header('set-cookie', sessionCookie(request, session.cookieValue, SESSION_MAX_AGE_MS / 1000));
      return reply.redirect(next, 303);
    } catch (error) {
      if (error instanceof TallyError && error.code === 'rate_limited') {
        reply.header('retry-after', '900');
        return sendHtml(request, reply, loginPage(next, t.throttled), 429);
      }
      if (error instanceof TallyError && error.code === 'unauthenticated') {
        return sendHtml(request, reply, loginPage(next, t.wrongLogin), 401);
      }
      throw error;
    }
  });

  // The store switcher: a fresh login as this email's user in the chosen merchant (password
  // checked and throttled like any login), then the current session ends.
  server.post<{ Body: Form }>('/dashboard/switch', async (request, reply) => {
    const user = await currentUser(tally, request, reply);
    if (!user) return reply;
    const body = request.body ?? {};
    checkCsrf(request, user, body);
    const merchantId = typeof body.merchant_id === 'string' ? body.merchant_id : '';
    if (!(user.stores ?? []).some((s) => s.merchantId === merchantId && merchantId !== user.merchantId)) {
      throw validationError([{ path: 'merchant_id', message: 'is not another store of this email' }]);
    }
    try {
      const session = await login(tally, {
        email: user.email,
        password: typeof body.password === 'string' ? body.password : '',
        ip: request.ip,
        merchantId,
      });
      await revokeSession(tally.database.db, user.sessionId, tally.clock.now());
      reply.header('set-cookie', sessionCookie(request, session.cookieValue, SESSION_MAX_AGE_MS / 1000));
      return reply.redirect('/dashboard', 303);
    } catch (error) {
      if (error instanceof TallyError && error.code === 'rate_limited') {
        reply.header('retry-after', '900');
        return sendHtml(request, reply, loginPage('/dashboard', t.throttled), 429);
      }
      if (error instanceof TallyError && error.code === 'unauthenticated') {
        return sendHtml(request, reply, loginPage('/dashboard', t.wrongLogin), 401);
      }
      throw error;
    }
  });

  server.post<{ Body: Form }>('/dashboard/logout', async (request, reply) => {
    const user = await currentUser(tally, request, reply);
    if (!user) return reply;
    checkCsrf(request, user, request.body ?? {});
    const now = tally.clock.now();
    await revokeSession(tally.database.db, user.sessionId, now);
    await tally.database.write((trx) =>
      appendAudit(
        trx,
        tally.database.dialect,
        {
          merchantId: user.merchantId,
          actor: { kind: 'user', id: user.userId, label: user.email },
          action: 'logout',
          target: null,
          reason: null,
          details: {},
        },
        now,
      ),
    );
    reply.header('set-cookie', sessionCookie(request, '', 0));
    return reply.redirect('/dashboard/login', 303);
  });
}
