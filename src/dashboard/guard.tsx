// Who may see and do what in the dashboard: the session cookie (HttpOnly, SameSite=Strict, Secure
// behind HTTPS, 12 h), sign-in and sign-out, and for every state-changing request a same-origin check
// (Origin / Sec-Fetch-Site) plus the session's CSRF token. Root pages and actions refuse standard
// tokens with 403 (and are not linked for them).
import type { MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { csrfMatches, csrfTokenFor, SESSION_TTL_MS, sessionToken } from '../auth/dashboard-sessions.js';
import type { Clock } from '../lib/clock.js';
import type { Db } from '../store/db.js';
import type { DashboardContext, DashboardEnv } from './env.js';
import { MessagePage } from './pages/message.js';
import { BASE } from './view.js';

export const SESSION_COOKIE = 'nwa_session';
const FLASH_COOKIE = 'nwa_flash';

export function isHttps(c: DashboardContext): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

export function setSessionCookie(c: DashboardContext, secret: string): void {
  setCookie(c, SESSION_COOKIE, secret, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c),
    path: BASE,
    maxAge: SESSION_TTL_MS / 1000,
  });
}

export function clearSessionCookie(c: DashboardContext): void {
  deleteCookie(c, SESSION_COOKIE, { path: BASE, secure: isHttps(c) });
}

/** A one-time message for the next page (after an action redirects), kept out of the URL. */
export function flash(c: DashboardContext, kind: 'notice' | 'error', text: string): void {
  setCookie(
    c,
    FLASH_COOKIE,
    Buffer.from(JSON.stringify({ kind, text: text.slice(0, 500) })).toString('base64url'),
    {
      httpOnly: true,
      sameSite: 'Strict',
      secure: isHttps(c),
      path: BASE,
      maxAge: 60,
    },
  );
}

export function takeFlash(c: DashboardContext): { notice?: string; error?: string } {
  const raw = getCookie(c, FLASH_COOKIE);
  if (!raw) return {};
  deleteCookie(c, FLASH_COOKIE, { path: BASE, secure: isHttps(c) });
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { kind?: string; text?: unknown };
    if (typeof v.text !== 'string') return {};
    return v.kind === 'error' ? { error: v.text } : { notice: v.text };
  } catch {
    return {};
  }
}

/** A cross-site request cannot come from our own pages: refuse it before looking at anything else. */
export function sameOrigin(c: DashboardContext): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = c.req.header('origin');
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  try {
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** A `next` that stays inside the dashboard (no open redirect). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/dashboard(\/[\w\-/.%]*)?(\?[\w\-=&%.]*)?$/.test(next) ? next : BASE;
}

const READS = new Set(['GET', 'HEAD']);

export function requireSession(deps: { db: Db; clock: Clock }): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    c.header('Cache-Control', 'no-store');
    const secret = getCookie(c, SESSION_COOKIE);
    const token = secret ? await sessionToken(deps.db, secret, deps.clock.now()) : undefined;
    const read = READS.has(c.req.method);
    if (!secret || !token) {
      if (secret) clearSessionCookie(c);
      // Pages send the reader to sign in; the fragments the client script polls answer 401 (it reloads).
      if (read && !/\/(rows|timeline)$/.test(c.req.path)) {
        const url = new URL(c.req.url);
        return c.redirect(`${BASE}/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
      }
      return c.html(<MessagePage title="Signed out" text="Your session has ended. Sign in again." />, 401);
    }
    if (!read) {
      if (!sameOrigin(c)) {
        return c.html(
          <MessagePage title="Refused" text="This request did not come from the dashboard." />,
          403,
        );
      }
      const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
      const offered =
        c.req.header('x-csrf-token') ?? (typeof form._csrf === 'string' ? form._csrf : undefined);
      if (!csrfMatches(secret, offered)) {
        return c.html(
          <MessagePage
            title="Refused"
            text="The form was stale or did not come from the dashboard. Reload the page and try again."
          />,
          403,
        );
      }
    }
    c.set('session', { secret, token });
    c.set('viewer', { tier: token.tier, token_name: token.name, csrf: csrfTokenFor(secret) });
    await next();
  };
}

export function requireRoot(): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    const viewer = c.get('viewer');
    if (viewer.tier !== 'root') {
      return c.html(
        <MessagePage
          title="Root only"
          text="This needs a root token; you are signed in with a standard one."
          viewer={viewer}
        />,
        403,
      );
    }
    await next();
  };
}
