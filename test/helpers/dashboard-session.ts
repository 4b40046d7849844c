import { createUser } from '../../src/auth/merchants.ts';
import type { UserRole } from '../../src/auth/scopes.ts';
import { setPassword } from '../../src/auth/user-credentials.ts';
import type { Harness } from './harness.ts';

const PASSWORD = 'a long enough passphrase';

/** A dashboard user of the harness's merchant, signed in: its session cookie, page reader and form token. */
export async function signedIn(h: Harness, email: string, role: UserRole) {
  const user = await createUser(h.tally.database.db, h.merchantId, email, role, h.clock.now());
  await setPassword(h.tally.database, user.id, PASSWORD, h.clock.now());
  const login = await h.app.server.inject({
    method: 'POST',
    url: '/dashboard/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ email, password: PASSWORD, next: '/dashboard' }).toString(),
  });
  if (login.statusCode !== 303) throw new Error(`login as ${email}: ${login.statusCode}`);
  const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
  const get = (url: string) => h.app.server.inject({ method: 'GET', url, headers: { cookie } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec((await get('/dashboard')).body)?.[1] ?? '';
  return { cookie, csrf, get };
}
