// Signing in to the dashboard through app.request(): the session cookie and the CSRF token a page
// carries, and requests that send them.
import type { TestApp } from '../helpers/test-app.js';

export interface DashSession {
  cookie: string;
  csrf: string;
}

export async function signInDashboard(t: TestApp, token: string): Promise<DashSession> {
  const res = await t.daemon.app.app.request('/dashboard/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  if (res.status !== 303) throw new Error(`sign-in: ${res.status} ${await res.text()}`);
  const cookie = /nwa_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  if (!cookie) throw new Error('sign-in set no session cookie');
  const page = await dashGet(t, { cookie: `nwa_session=${cookie}`, csrf: '' }, '/dashboard/settings');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  if (!csrf) throw new Error('no CSRF token on the page');
  return { cookie: `nwa_session=${cookie}`, csrf };
}

export async function dashGet(t: TestApp, s: DashSession | null, path: string): Promise<Response> {
  return t.daemon.app.app.request(path, { headers: s ? { cookie: s.cookie } : {} });
}

export async function dashPost(
  t: TestApp,
  s: DashSession | null,
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return t.daemon.app.app.request(path, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(s ? { cookie: s.cookie } : {}),
      ...headers,
    },
    body: new URLSearchParams(fields).toString(),
  });
}
