// Attachment activation and removal (SPEC §13): root turns a `queued` attachment `active` (automatic
// replies start on the channel), and removes one (status `removed`, automatic sending stops; execute
// answers extension_not_active). Each route: happy path, each error, each tier; both are audited.
import { afterEach, describe, expect, it } from 'vitest';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { one, rows } from '../inbox/db-view.js';
import { deliver, deliveryOf, messagesChange, PNID, signed } from '../webhook/deliveries.js';

const INSTALL = '/api/marketplace/extensions/install';
const CUSTOMER = '4917000000701';
// Route ai for every conversation, and a rule that answers "hello".
const CONFIG = {
  runtime: { automation_mode: 'autonomous' },
  responder: { kind: 'rules', rules: [{ id: 'hi', keywords: ['hello'], reply: 'Hi! How can we help?' }] },
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
});

interface Setup {
  t: TestApp;
  agentId: number;
  agentUuid: string;
  attachmentId: number;
  path: string;
}

async function setup(installMode: 'queued' | 'trial', base = '/api/agents'): Promise<Setup> {
  const t = await createTestApp({ config: CONFIG });
  cleanups.push(() => t.close());
  const agent = await json(await t.request(base, { body: { name: 'Support', phone_number_id: PNID } }));
  const att = await json(
    await t.request(INSTALL, { body: { offerId: 1, agentUuid: agent.uuid, installMode } }),
  );
  return {
    t,
    agentId: agent.id,
    agentUuid: agent.uuid,
    attachmentId: att.id,
    path: `${base}/${agent.id}/extensions/${att.id}`,
  };
}

const activate = (s: Setup, token?: string | null, path = s.path) =>
  s.t.request(`${path}/activate`, { method: 'POST', token: token === undefined ? s.t.tokens.root : token });
const remove = (s: Setup, token?: string | null, path = s.path) =>
  s.t.request(path, { method: 'DELETE', token: token === undefined ? s.t.tokens.root : token });

/** The customer writes "hello"; returns the auto-reply outbox rows after the responder ran. */
async function customerSaysHello(s: Setup, at: number): Promise<{ kind: string }[]> {
  await deliver(
    s.t,
    signed(
      deliveryOf([messagesChange([{ wa_id: CUSTOMER }], [{ from: CUSTOMER, timestamp: at, body: 'hello' }])]),
    ),
  );
  await s.t.deps.outbound.responder.drain();
  return rows<{ kind: string }>(s.t, "select kind from outbox where kind = 'reply'");
}

const T0 = Math.floor(Date.parse('2026-01-05T08:00:00Z') / 1000);

describe('POST /api/agents/:agent_id/extensions/:attachment_id/activate', () => {
  it('turns a queued attachment active, with activated_at', async () => {
    const s = await setup('queued');
    const res = await activate(s);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      id: s.attachmentId,
      agent_id: s.agentId,
      status: 'active',
      install_mode: 'queued',
      activated_at: '2026-01-05T08:00:00.000Z',
    });
  });

  it('automatic replies start once the attachment is active', async () => {
    const s = await setup('queued');
    expect(await customerSaysHello(s, T0)).toHaveLength(0);
    expect((await activate(s)).status).toBe(200);
    expect(await customerSaysHello(s, T0 + 60)).toHaveLength(1);
  });

  it('is audited with the actor and the request id', async () => {
    const s = await setup('queued');
    await activate(s);
    const entry = one<{ action: string; actor: string; details: string }>(
      s.t,
      "select * from audit_log where action = 'attachment.activate'",
    );
    expect(JSON.parse(entry.details)).toMatchObject({
      agent_id: s.agentId,
      attachment_id: s.attachmentId,
      from: 'queued',
      changed: true,
      request_id: expect.any(String),
    });
  });

  it('works for shared agents under their own path', async () => {
    const s = await setup('queued', '/api/shared-agents');
    expect(await json(await activate(s))).toMatchObject({ status: 'active' });
  });

  it('an active attachment is returned unchanged (a retried request)', async () => {
    const s = await setup('trial');
    const before = one<{ updated_at: number }>(s.t, 'select updated_at from agent_extension_attachments');
    s.t.clock.advance(1000);
    const res = await activate(s);
    expect(res.status).toBe(200);
    expect((await json(res)).status).toBe('active');
    expect(one(s.t, 'select updated_at from agent_extension_attachments')).toEqual(before);
  });

  it('409 for a removed attachment', async () => {
    const s = await setup('queued');
    await remove(s);
    const res = await activate(s);
    expect(res.status).toBe(409);
    expect((await json(res)).error).toMatchObject({ code: 'invalid_state', details: { status: 'removed' } });
  });

  it('404 for an unknown agent, an unknown attachment, or another agent’s attachment', async () => {
    const s = await setup('queued');
    const other = await json(await s.t.request('/api/agents', { body: { name: 'Other' } }));
    for (const path of [
      `/api/agents/999/extensions/${s.attachmentId}`,
      `/api/agents/${s.agentId}/extensions/999`,
      `/api/agents/${s.agentId}/extensions/abc`,
      `/api/agents/${other.id}/extensions/${s.attachmentId}`,
      `/api/shared-agents/${s.agentId}/extensions/${s.attachmentId}`,
    ]) {
      const res = await activate(s, undefined, path);
      expect(res.status, path).toBe(404);
      expect((await json(res)).error.code).toBe('not_found');
    }
    expect(one<{ status: string }>(s.t, 'select status from agent_extension_attachments').status).toBe(
      'queued',
    );
  });

  it('403 for a standard token and 401 without one; nothing changes', async () => {
    const s = await setup('queued');
    expect((await activate(s, s.t.tokens.standard)).status).toBe(403);
    expect((await activate(s, null)).status).toBe(401);
    expect(one<{ status: string }>(s.t, 'select status from agent_extension_attachments').status).toBe(
      'queued',
    );
  });
});

describe('DELETE /api/agents/:agent_id/extensions/:attachment_id', () => {
  it('sets status removed', async () => {
    const s = await setup('trial');
    const res = await remove(s);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ id: s.attachmentId, status: 'removed' });
    const listed = await json(await s.t.request(`/api/agents/${s.agentId}/extensions`));
    expect(listed[0].status).toBe('removed');
  });

  it('automatic sending on the channel stops, and execute answers extension_not_active', async () => {
    const s = await setup('trial');
    expect(await customerSaysHello(s, T0)).toHaveLength(1);
    expect((await remove(s)).status).toBe(200);
    s.t.clock.advance(60_000);
    // A new customer turn (the earlier one was answered): still only the one reply.
    await s.t.deps.outbound.sender.drain();
    expect(await customerSaysHello(s, T0 + 60)).toHaveLength(1);
    const res = await s.t.request('/api/extensions/native-whatsapp/runtime/execute', {
      body: { agent_uuid: s.agentUuid, intent: 'score_conversation', context: { platform: 'whatsapp' } },
    });
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe('extension_not_active');
  });

  it('removing a removed attachment changes nothing; installing again re-opens it', async () => {
    const s = await setup('trial');
    await remove(s);
    const again = await remove(s);
    expect(again.status).toBe(200);
    expect((await json(again)).status).toBe('removed');
    const reinstall = await s.t.request(INSTALL, {
      body: { offerId: 1, agentUuid: s.agentUuid, installMode: 'queued' },
    });
    expect(reinstall.status).toBe(201);
    expect(await json(reinstall)).toMatchObject({ id: s.attachmentId, status: 'queued' });
  });

  it('is audited', async () => {
    const s = await setup('trial');
    await remove(s);
    const entry = one<{ details: string }>(s.t, "select * from audit_log where action = 'attachment.remove'");
    expect(JSON.parse(entry.details)).toMatchObject({ from: 'active', changed: true });
  });

  it('404 for an unknown agent or attachment', async () => {
    const s = await setup('trial');
    expect((await remove(s, undefined, `/api/agents/999/extensions/${s.attachmentId}`)).status).toBe(404);
    expect((await remove(s, undefined, `/api/agents/${s.agentId}/extensions/999`)).status).toBe(404);
  });

  it('403 for a standard token and 401 without one; nothing changes', async () => {
    const s = await setup('trial');
    expect((await remove(s, s.t.tokens.standard)).status).toBe(403);
    expect((await remove(s, null)).status).toBe(401);
    expect(one<{ status: string }>(s.t, 'select status from agent_extension_attachments').status).toBe(
      'active',
    );
  });
});

describe('OpenAPI', () => {
  it('documents the drafts and attachment routes', async () => {
    const s = await setup('trial');
    const doc = await json(await s.t.request('/api/openapi.json', { token: null }));
    const paths = doc.paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths['/api/agents/{agent_id}/extensions/{attachment_id}/activate'] ?? {})).toEqual([
      'post',
    ]);
    expect(Object.keys(paths['/api/agents/{agent_id}/extensions/{attachment_id}'] ?? {})).toEqual(['delete']);
    const drafts = '/api/extensions/native-whatsapp/runtime/conversations/{conversation_id}/drafts';
    expect(paths[drafts]?.get).toBeDefined();
    expect(paths[`${drafts}/{draft_id}/approve`]?.post).toBeDefined();
    expect(paths[`${drafts}/{draft_id}/discard`]?.post).toBeDefined();
  });
});
