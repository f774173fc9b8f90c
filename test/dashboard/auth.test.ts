// Dashboard sign-in and its guards through app.request(): the token is exchanged for an HttpOnly,
// SameSite=Strict session cookie stored hashed; pages need the session; every state-changing request
// needs the session's CSRF token and a same-origin request; root pages and actions refuse standard.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { exec, one, rows } from '../inbox/db-view.js';
import { type DashSession, dashGet, dashPost, signInDashboard } from './session.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
});

async function app(): Promise<TestApp> {
  const t = await createTestApp();
  cleanups.push(() => t.close());
  return t;
}

describe('dashboard sign-in', () => {
  it('exchanges a token for an HttpOnly SameSite=Strict 12 h cookie whose secret is stored only hashed', async () => {
    const t = await app();
    const res = await dashPost(t, null, '/dashboard/login', { token: t.tokens.standard });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/dashboard');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^nwa_session=[\w-]{40,};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Max-Age=43200');
    expect(cookie).toContain('Path=/dashboard');
    expect(cookie).not.toContain('Secure');
    const secret = /nwa_session=([^;]+)/.exec(cookie)?.[1] as string;
    const stored = one<{ id_hash: string; expires_at: number; created_at: number }>(
      t,
      'select * from dashboard_sessions',
    );
    expect(stored.id_hash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(stored.expires_at - stored.created_at).toBe(12 * 3_600_000);
    expect(JSON.stringify(rows(t, 'select * from dashboard_sessions'))).not.toContain(secret);
  });

  it('marks the cookie Secure behind HTTPS', async () => {
    const t = await app();
    const res = await dashPost(
      t,
      null,
      '/dashboard/login',
      { token: t.tokens.root },
      { 'x-forwarded-proto': 'https' },
    );
    expect(res.headers.get('set-cookie')).toContain('Secure');
  });

  it('refuses an unknown token with 401 and sets no cookie', async () => {
    const t = await app();
    const res = await dashPost(t, null, '/dashboard/login', { token: 'nwa_not_a_real_token_000000000000' });
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('unknown or revoked');
  });

  it('refuses a sign-in posted from another site', async () => {
    const t = await app();
    const res = await dashPost(
      t,
      null,
      '/dashboard/login',
      { token: t.tokens.root },
      { origin: 'https://evil.example' },
    );
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('sends a signed-out reader to the sign-in page, and keeps where they were going inside the dashboard', async () => {
    const t = await app();
    const res = await dashGet(t, null, '/dashboard/conversations?state=open');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(
      '/dashboard/login?next=%2Fdashboard%2Fconversations%3Fstate%3Dopen',
    );
    const login = await dashPost(t, null, '/dashboard/login', {
      token: t.tokens.root,
      next: 'https://evil.example/',
    });
    expect(login.headers.get('location')).toBe('/dashboard');
  });

  it('ends the session on sign-out and when the token is revoked', async () => {
    const t = await app();
    const s = await signInDashboard(t, t.tokens.standard);
    expect((await dashGet(t, s, '/dashboard')).status).toBe(200);
    const out = await dashPost(t, s, '/dashboard/logout', { _csrf: s.csrf });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/nwa_session=;/);
    expect((await dashGet(t, s, '/dashboard')).status).toBe(303);

    const again = await signInDashboard(t, t.tokens.standard);
    exec(t, "update api_tokens set revoked_at = 1 where tier = 'standard'");
    expect((await dashGet(t, again, '/dashboard')).status).toBe(303);
  });

  it('audits sign-in, failed sign-in and sign-out by token id, with no secret in the log', async () => {
    const t = await app();
    const typo = `${t.tokens.root.slice(0, -3)}xyz`;
    expect((await dashPost(t, null, '/dashboard/login', { token: typo })).status).toBe(401);
    expect((await dashPost(t, null, '/dashboard/login', { token: '  ' })).status).toBe(401);
    const s = await signInDashboard(t, t.tokens.standard);
    expect((await dashPost(t, s, '/dashboard/logout', { _csrf: s.csrf })).status).toBe(200);
    const tokenId = one<{ id: string }>(t, "select id from api_tokens where tier = 'standard'").id;
    const log = rows<{ action: string; actor: string; details: string }>(
      t,
      "select action, actor, details from audit_log where action like 'dashboard.%' order by at, rowid",
    );
    expect(log.map((r) => [r.action, r.actor, JSON.parse(r.details)])).toEqual([
      ['dashboard.sign_in_failed', 'unknown', { reason: 'unknown_or_revoked' }],
      ['dashboard.sign_in_failed', 'unknown', { reason: 'empty' }],
      ['dashboard.sign_in', tokenId, { tier: 'standard', token_name: expect.any(String) }],
      ['dashboard.sign_out', tokenId, { tier: 'standard' }],
    ]);
    // Neither token, the mistyped one, nor the session secret, nor any long piece of them.
    const all = JSON.stringify(rows(t, 'select * from audit_log'));
    const secret = s.cookie.replace('nwa_session=', '');
    for (const value of [t.tokens.root, t.tokens.standard, typo, secret]) {
      for (let i = 0; i + 12 <= value.length; i++) expect(all).not.toContain(value.slice(i, i + 12));
    }
  });

  it('ends a session after 12 hours', async () => {
    const t = await app();
    const s = await signInDashboard(t, t.tokens.standard);
    t.clock.advance(12 * 3_600_000 - 1);
    expect((await dashGet(t, s, '/dashboard')).status).toBe(200);
    t.clock.advance(1);
    expect((await dashGet(t, s, '/dashboard')).status).toBe(303);
  });
});

describe('dashboard CSRF', () => {
  async function rootSession(): Promise<{ t: TestApp; s: DashSession }> {
    const t = await app();
    return { t, s: await signInDashboard(t, t.tokens.root) };
  }
  const paused = (t: TestApp) => t.deps.config().runtime.status === 'paused';

  it('runs an action with the session CSRF token', async () => {
    const { t, s } = await rootSession();
    const res = await dashPost(t, s, '/dashboard/runtime/pause', { _csrf: s.csrf });
    expect(res.status).toBe(303);
    expect(paused(t)).toBe(true);
  });

  it('refuses an action without the CSRF token, with another session’s, or from another origin', async () => {
    const { t, s } = await rootSession();
    const other = await signInDashboard(t, t.tokens.root);
    expect((await dashPost(t, s, '/dashboard/runtime/pause', {})).status).toBe(403);
    expect((await dashPost(t, s, '/dashboard/runtime/pause', { _csrf: other.csrf })).status).toBe(403);
    expect(
      (
        await dashPost(
          t,
          s,
          '/dashboard/runtime/pause',
          { _csrf: s.csrf },
          { origin: 'https://evil.example' },
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await dashPost(
          t,
          s,
          '/dashboard/runtime/pause',
          { _csrf: s.csrf },
          { 'sec-fetch-site': 'cross-site' },
        )
      ).status,
    ).toBe(403);
    expect(paused(t)).toBe(false);
  });

  it('refuses an action without a session with 401', async () => {
    const { t, s } = await rootSession();
    const res = await dashPost(t, null, '/dashboard/runtime/pause', { _csrf: s.csrf });
    expect(res.status).toBe(401);
    expect(paused(t)).toBe(false);
  });
});

describe('dashboard tiers', () => {
  it('shows a standard token no root page or action, and refuses them when asked directly', async () => {
    const t = await app();
    const s = await signInDashboard(t, t.tokens.standard);
    const overview = await (await dashGet(t, s, '/dashboard')).text();
    expect(overview).not.toContain('/dashboard/events');
    expect(overview).not.toContain('data-root-action');
    const settings = await (await dashGet(t, s, '/dashboard/settings')).text();
    expect(settings).not.toContain('data-root-action');
    expect(settings).toContain('Read-only with a standard token');

    expect((await dashGet(t, s, '/dashboard/events')).status).toBe(403);
    expect((await dashPost(t, s, '/dashboard/runtime/pause', { _csrf: s.csrf })).status).toBe(403);
    const put = await dashPost(t, s, '/dashboard/settings', {
      _csrf: s.csrf,
      version: '0',
      patch: '{"quiet_hours": null}',
    });
    expect(put.status).toBe(403);
    expect(t.deps.config().runtime.status).toBe('active');
  });

  it('shows root its pages and actions', async () => {
    const t = await app();
    const s = await signInDashboard(t, t.tokens.root);
    const overview = await (await dashGet(t, s, '/dashboard')).text();
    expect(overview).toContain('href="/dashboard/events"');
    expect(overview).toContain('Pause runtime');
    expect((await dashGet(t, s, '/dashboard/events')).status).toBe(200);
  });
});

describe('dashboard assets', () => {
  it('serves its script and stylesheet itself, and forbids anything else by CSP', async () => {
    const t = await app();
    const js = await dashGet(t, null, '/dashboard/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('javascript');
    expect((await dashGet(t, null, '/dashboard/assets/app.css')).status).toBe(200);
    const login = await dashGet(t, null, '/dashboard/login');
    expect(login.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await login.text()).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('keeps its JavaScript under 150 KB gzipped', async () => {
    const t = await app();
    const js = Buffer.from(await (await dashGet(t, null, '/dashboard/assets/app.js')).arrayBuffer());
    expect(gzipSync(js).length).toBeLessThan(150 * 1024);
  });
});
