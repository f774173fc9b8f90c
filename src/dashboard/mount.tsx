// GET /dashboard and everything under it (SPEC §13): assets, sign-in, the pages, and the actions. Pages
// are rendered on the server (hono/jsx) from the same services the API uses; the browser gets HTML,
// one stylesheet and one small script, all from the daemon (the CSP forbids anything else).
import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AppDeps } from '../app-deps.js';
import { signIn, signOut } from '../auth/dashboard-sessions.js';
import type { AppEnv } from '../http/env.js';
import { statusFor } from '../http/errors.js';
import { bodyLimit } from '../http/middleware/body-limit.js';
import { AppError } from '../lib/app-error.js';
import { mountDashboardActions } from './action-routes.js';
import { CLIENT_JS } from './assets/client.js';
import { STYLES } from './assets/styles.js';
import { ASSET_VERSION } from './assets/version.js';
import type { DashboardEnv } from './env.js';
import {
  clearSessionCookie,
  requireSession,
  SESSION_COOKIE,
  safeNext,
  sameOrigin,
  setSessionCookie,
} from './guard.js';
import { mountDashboardLive } from './live.js';
import { mountDashboardPages } from './page-routes.js';
import { LoginPage } from './pages/login.js';
import { MessagePage } from './pages/message.js';
import { BASE } from './view.js';

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function mountDashboard(app: Hono<AppEnv>, deps: AppDeps): void {
  const d = new Hono<DashboardEnv>();
  const sessionDeps = () => ({ db: deps.db, random: deps.random, ids: deps.ids, now: deps.clock.now() });

  d.use('*', async (c, next) => {
    await next();
    // A customer's media keeps its own, stricter policy (sandboxed).
    if (!c.res.headers.has('Content-Security-Policy')) c.header('Content-Security-Policy', CSP);
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
  });
  d.use('*', bodyLimit(deps.config().server.api_body_limit_bytes));

  const asset = (body: string, type: string) => (c: import('hono').Context) => {
    // Versioned URLs never change content: cache them for long. Unversioned ones revalidate.
    c.header(
      'Cache-Control',
      c.req.query('v') === ASSET_VERSION ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
    c.header('Content-Type', type);
    return c.body(body);
  };
  d.get('/assets/app.js', asset(CLIENT_JS, 'text/javascript; charset=utf-8'));
  d.get('/assets/app.css', asset(STYLES, 'text/css; charset=utf-8'));

  d.get('/login', (c) => {
    c.header('Cache-Control', 'no-store');
    return c.html(<LoginPage next={c.req.query('next')} />);
  });
  d.post('/login', async (c) => {
    c.header('Cache-Control', 'no-store');
    if (!sameOrigin(c))
      return c.html(
        <MessagePage title="Refused" text="This request did not come from the dashboard." />,
        403,
      );
    const form = await c.req.parseBody();
    const next = safeNext(form.next);
    const value = typeof form.token === 'string' ? form.token : '';
    const session = await signIn(sessionDeps(), value);
    if (!session) {
      // The same answer for unknown, revoked and malformed tokens.
      return c.html(<LoginPage error="That token is unknown or revoked." next={next} />, 401);
    }
    setSessionCookie(c, session.secret);
    c.get('logger')?.info(
      { event: 'dashboard.signed_in', token_id: session.token.id, tier: session.token.tier },
      'dashboard sign-in',
    );
    return c.redirect(next, 303);
  });

  d.use('*', requireSession({ db: deps.db, clock: deps.clock }));
  // Writes are refused like the API's while the database cannot take them (store/writability.ts).
  d.use('*', async (c, next) => {
    if (c.req.method !== 'POST' || deps.writability.writable()) return next();
    throw new AppError(
      'store_not_writable',
      'the database is not writable right now; retry in a few seconds',
    );
  });

  d.post('/logout', async (c) => {
    const secret = getCookie(c, SESSION_COOKIE);
    if (secret) await signOut(sessionDeps(), secret);
    clearSessionCookie(c);
    return c.html(<LoginPage notice="Signed out." />);
  });

  mountDashboardPages(d, deps);
  mountDashboardLive(d, deps);
  mountDashboardActions(d, deps);

  // A sub-app's notFound is not consulted once mounted, so the last route catches the rest.
  d.all('*', (c) =>
    c.html(<MessagePage title="Not found" text="There is no such page." viewer={c.get('viewer')} />, 404),
  );
  d.onError((err, c) => {
    const viewer = c.get('viewer');
    if (err instanceof AppError) {
      const status = statusFor(err.code);
      return c.html(
        <MessagePage
          title={status === 404 ? 'Not found' : 'Could not do that'}
          text={err.message}
          viewer={viewer}
        />,
        status,
      );
    }
    (c.get('logger') ?? deps.logger).error(
      { event: 'dashboard.error', err, path: c.req.path },
      'dashboard error',
    );
    return c.html(
      <MessagePage
        title="Something went wrong"
        text="An internal error occurred; it was logged."
        viewer={viewer}
      />,
      500,
    );
  });

  app.route(BASE, d as unknown as Hono<AppEnv>);
}
