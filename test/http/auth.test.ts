import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const AUDIT = '/api/extensions/native-whatsapp/management/audit';

describe('API auth', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ memory: true });
  });
  afterEach(async () => {
    await t.close();
  });

  it('answers 401 with the error envelope when no token is sent', async () => {
    const res = await t.request('/metrics', { token: null });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    const body = await json(res);
    expect(body.error.code).toBe('unauthorized');
    expect(body.error.message).toMatch(/bearer/i);
    expect(body.error.request_id).toBe(res.headers.get('x-request-id'));
  });

  it('answers 401 for an unknown token and for a malformed header', async () => {
    expect((await t.request('/metrics', { token: 'nwa_not-a-real-token-at-all' })).status).toBe(401);
    const res = await t.request('/metrics', {
      token: null,
      headers: { authorization: `Basic ${t.tokens.root}` },
    });
    expect(res.status).toBe(401);
  });

  it('answers 403 when a standard token calls a root route, 200 for root', async () => {
    const denied = await t.request(AUDIT, { token: t.tokens.standard });
    expect(denied.status).toBe(403);
    expect((await json(denied)).error.code).toBe('forbidden');
    expect((await t.request(AUDIT, { token: t.tokens.root })).status).toBe(200);
  });

  it('lets standard and root tokens call standard routes', async () => {
    expect((await t.request('/metrics', { token: t.tokens.standard })).status).toBe(200);
    expect((await t.request('/metrics', { token: t.tokens.root })).status).toBe(200);
  });

  it('refuses a revoked token', async () => {
    const { tokensRepo } = await import('../../src/store/tokens-repo.js');
    const { hashToken } = await import('../../src/auth/tokens.js');
    const row = await tokensRepo.findByHash(t.deps.db, hashToken(t.tokens.standard));
    await tokensRepo.revoke(t.deps.db, row?.id as string, t.clock.now());
    expect((await t.request('/metrics', { token: t.tokens.standard })).status).toBe(401);
  });

  it('stores tokens only as hashes', async () => {
    const rows = await t.deps.db.selectFrom('api_tokens').selectAll().execute();
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(t.tokens.root);
    expect(dump).not.toContain(t.tokens.standard);
  });

  it('keeps health endpoints open without a token', async () => {
    expect((await t.request('/healthz', { token: null })).status).toBe(200);
    const ready = await t.request('/readyz', { token: null });
    expect(ready.status).toBe(200);
    expect(await json(ready)).toMatchObject({
      status: 'ready',
      checks: { database: 'ok', migrations: 'current' },
    });
  });
});
