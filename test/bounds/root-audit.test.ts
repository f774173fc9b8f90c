// SPEC §9a: every root action is in the audit log with the actor's token id, the request id and the
// outcome — refusals included. Recorded by the API router for every root route.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/auth/tokens.js';
import { tokensRepo } from '../../src/store/tokens-repo.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ memory: true });
});
afterEach(async () => {
  await t.close();
});

async function auditRows() {
  const rows = await t.deps.db.selectFrom('audit_log').selectAll().orderBy('at').orderBy('id').execute();
  return rows.map((r) => ({ actor: r.actor, action: r.action, details: JSON.parse(r.details) }));
}

describe('root actions are audited', () => {
  it('creating an agent: actor token id, request id and outcome', async () => {
    const root = await tokensRepo.findByHash(t.deps.db, hashToken(t.tokens.root));
    const res = await t.request('/api/agents', { body: { name: 'Support' }, token: t.tokens.root });
    expect(res.status).toBe(201);
    const rows = (await auditRows()).filter((r) => r.action === 'api.post /api/agents');
    expect(rows).toEqual([
      {
        actor: root?.id,
        action: 'api.post /api/agents',
        details: { request_id: res.headers.get('x-request-id'), outcome: '201', params: {} },
      },
    ]);
  });

  it('a refused root action is audited with its error code', async () => {
    const res = await t.request('/api/agents', { body: { name: '' }, token: t.tokens.root });
    expect(res.status).toBe(400);
    const rows = (await auditRows()).filter((r) => r.action === 'api.post /api/agents');
    expect(rows.map((r) => r.details.outcome)).toEqual(['validation_failed']);
  });

  it('a standard token refused at the door is not a root action (no entry)', async () => {
    const res = await t.request('/api/agents', { body: { name: 'x' }, token: t.tokens.standard });
    expect(res.status).toBe(403);
    expect((await auditRows()).filter((r) => r.action === 'api.post /api/agents')).toEqual([]);
  });
});
