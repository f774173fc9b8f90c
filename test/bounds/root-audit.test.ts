// SPEC §9a: every root action is in the audit log with the actor's token id, the request id and the
// outcome — refusals included. Recorded by the API router for every root route, except where the
// service writes a richer entry of its own (then the router records refusals only: one entry each).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/auth/tokens.js';
import { tokensRepo } from '../../src/store/tokens-repo.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';

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

  it('a webhook-config action is audited once: the service entry, with request id and outcome', async () => {
    const rx = await startWebhookReceiver();
    try {
      const root = await tokensRepo.findByHash(t.deps.db, hashToken(t.tokens.root));
      const base = '/api/extensions/native-whatsapp/management/webhooks';
      const created = await t.request(base, { body: { url: rx.url, types: ['*'] } });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      const rotated = await t.request(`${base}/${id}/rotate-secret`, { method: 'POST' });
      expect(rotated.status).toBe(200);
      const deleted = await t.request(`${base}/${id}`, { method: 'DELETE' });
      expect(deleted.status).toBe(204);
      const refused = await t.request(`${base}/${id}`, { method: 'DELETE' });
      expect(refused.status).toBe(404);

      expect(await auditRows()).toEqual([
        {
          actor: root?.id,
          action: 'webhooks.create',
          details: {
            id,
            types: ['*'],
            outcome: 'created',
            request_id: created.headers.get('x-request-id'),
          },
        },
        {
          actor: root?.id,
          action: 'webhooks.rotate_secret',
          details: { id, outcome: 'rotated', request_id: rotated.headers.get('x-request-id') },
        },
        {
          actor: root?.id,
          action: 'webhooks.delete',
          details: { id, outcome: 'deleted', request_id: deleted.headers.get('x-request-id') },
        },
        // A refusal changes nothing, so the service writes no entry: the router records it.
        {
          actor: root?.id,
          action: 'api.delete /api/extensions/native-whatsapp/management/webhooks/:id',
          details: { request_id: refused.headers.get('x-request-id'), outcome: 'not_found', params: { id } },
        },
      ]);
    } finally {
      await rx.close();
    }
  });

  it('a recovery action is audited once, by its service, with request id and outcome', async () => {
    const res = await t.request('/api/extensions/native-whatsapp/management/recovery', {
      body: { action: 'replay_dead_letters' },
    });
    expect(res.status).toBe(200);
    expect((await auditRows()).map((r) => ({ action: r.action, details: r.details }))).toEqual([
      {
        action: 'recovery.replay_dead_letters',
        details: {
          counts: { replayed: 0 },
          outcome: 'done',
          request_id: res.headers.get('x-request-id'),
        },
      },
    ]);
  });
});
