import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { type Json, json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const LIST = '/api/marketplace/extensions';
const INSTALL = '/api/marketplace/extensions/install';
const AGENT_UUID = '0b6f7a52-6d3e-4c1a-9f00-5a1e2b3c4d5e';

describe('marketplace API', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ memory: true });
  });
  afterEach(async () => {
    await t.close();
  });

  async function agent(kind: 'agents' | 'shared-agents' = 'agents', uuid = AGENT_UUID): Promise<Json> {
    const res = await t.request(`/api/${kind}`, { body: { name: 'Primary WhatsApp agent', uuid } });
    expect(res.status).toBe(201);
    return json(res);
  }
  const install = (body: Record<string, unknown>, token?: string) =>
    t.request(INSTALL, { body, token: token ?? t.tokens.root });

  describe('GET /api/marketplace/extensions', () => {
    it('lists the native-whatsapp record with every seed field filled', async () => {
      const res = await t.request(LIST, { token: t.tokens.standard });
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body).toHaveLength(1);
      expect(body[0]).toEqual({
        id: 1,
        slug: 'native-whatsapp',
        name: 'WhatsApp Native Extension',
        version: VERSION,
        status: 'active',
        description: expect.stringMatching(/follow-up automation/),
        author: 'SSNATW',
        extension_type: 'social',
        platform: 'whatsapp',
        capabilities: expect.arrayContaining(['follow_up_automation', 'outreach_campaigns']),
        required_permissions: expect.arrayContaining(['whatsapp_business_messaging']),
        documentation_url: '/api/docs',
        pricing_model: 'free',
        price: 0,
        revenue_share_percent: null,
        is_official: true,
        install_count: 0,
        rating: 0,
        review_count: 0,
        created_at: '2026-01-05T08:00:00.000Z',
        updated_at: '2026-01-05T08:00:00.000Z',
      });
    });

    it('answers 401 without a token', async () => {
      expect((await t.request(LIST, { token: null })).status).toBe(401);
    });
  });

  describe('GET /api/marketplace/extensions/:id', () => {
    it('reads the record by its numeric id', async () => {
      const res = await t.request(`${LIST}/1`, { token: t.tokens.standard });
      expect(res.status).toBe(200);
      expect(await json(res)).toMatchObject({ id: 1, slug: 'native-whatsapp', version: VERSION });
    });

    it.each(['999', 'abc', '0', '1.5', '-1'])('answers 404 for id %s', async (id) => {
      const res = await t.request(`${LIST}/${id}`, { token: t.tokens.standard });
      expect(res.status).toBe(404);
      expect((await json(res)).error.code).toBe('not_found');
    });

    it('answers 401 without a token', async () => {
      expect((await t.request(`${LIST}/1`, { token: null })).status).toBe(401);
    });
  });

  describe('POST /api/marketplace/extensions/install', () => {
    it('installs a trial as an active attachment with activated_at', async () => {
      const a = await agent();
      const res = await install({ offerId: 1, agentUuid: AGENT_UUID, installMode: 'trial', notes: 'try it' });
      expect(res.status).toBe(201);
      expect(await json(res)).toEqual({
        id: expect.any(Number),
        agent_id: a.id,
        offer_id: 1,
        offer_name: 'WhatsApp Native Extension',
        offer_slug: 'native-whatsapp',
        status: 'active',
        install_mode: 'trial',
        billing_model: 'trial',
        revenue_share_percent: null,
        upfront_price: null,
        notes: 'try it',
        created_at: '2026-01-05T08:00:00.000Z',
        activated_at: '2026-01-05T08:00:00.000Z',
      });
    });

    it('installs a purchase as active, billed by the offer pricing model', async () => {
      await agent();
      const res = await install({ offerId: 1, agentUuid: AGENT_UUID, installMode: 'purchase' });
      expect(res.status).toBe(201);
      expect(await json(res)).toMatchObject({
        status: 'active',
        install_mode: 'purchase',
        billing_model: 'free',
        upfront_price: 0,
        notes: null,
      });
    });

    it('installs queued as a queued attachment without activated_at', async () => {
      await agent();
      const res = await install({ offerId: 1, agentUuid: AGENT_UUID, installMode: 'queued' });
      expect(res.status).toBe(201);
      expect(await json(res)).toMatchObject({ status: 'queued', install_mode: 'queued', activated_at: null });
    });

    it('returns the existing attachment with 200 when installed again, whatever the mode', async () => {
      await agent();
      const first = await json(await install({ offerId: 1, agentUuid: AGENT_UUID, installMode: 'queued' }));
      t.clock.advance(60_000);
      const again = await install({ offerId: 1, agentUuid: AGENT_UUID, installMode: 'purchase', notes: 'x' });
      expect(again.status).toBe(200);
      expect(await json(again)).toEqual(first);
      const catalog = await json(await t.request(`${LIST}/1`));
      expect(catalog.install_count).toBe(1);
    });

    it('accepts the agent uuid in any letter case', async () => {
      await agent();
      const res = await install({ offerId: 1, agentUuid: AGENT_UUID.toUpperCase(), installMode: 'trial' });
      expect(res.status).toBe(201);
    });

    it('counts each new attachment in install_count and keeps updated_at current', async () => {
      await agent('agents');
      const shared = await agent('shared-agents', '9d1c1f4e-2a6b-4b7e-8c3d-0e1f2a3b4c5d');
      t.clock.advance(3_600_000);
      await install({ offerId: 1, agentUuid: AGENT_UUID, installMode: 'trial' });
      const res = await install({ offerId: 1, agentUuid: shared.uuid, installMode: 'purchase' });
      expect(res.status).toBe(201);
      const record = await json(await t.request(`${LIST}/1`));
      expect(record.install_count).toBe(2);
      expect(record.updated_at).toBe('2026-01-05T09:00:00.000Z');
      expect(record.created_at).toBe('2026-01-05T08:00:00.000Z');
    });

    it('shows the attachment under the agent it was installed on', async () => {
      const shared = await agent('shared-agents');
      await install({ offerId: 1, agentUuid: AGENT_UUID, installMode: 'trial' });
      const list = await json(await t.request(`/api/shared-agents/${shared.id}/extensions`));
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ agent_id: shared.id, offer_slug: 'native-whatsapp', status: 'active' });
    });

    it('answers 404 for an unknown offer', async () => {
      await agent();
      const res = await install({ offerId: 42, agentUuid: AGENT_UUID, installMode: 'trial' });
      expect(res.status).toBe(404);
      expect((await json(res)).error.message).toMatch(/42/);
    });

    it('answers 404 for an unknown agent and creates nothing', async () => {
      const res = await install({ offerId: 1, agentUuid: AGENT_UUID, installMode: 'trial' });
      expect(res.status).toBe(404);
      expect((await json(res)).error.message).toMatch(/agent/);
      expect((await json(await t.request(`${LIST}/1`))).install_count).toBe(0);
    });

    it.each([
      [{ agentUuid: AGENT_UUID, installMode: 'trial' }, 'offerId'],
      [{ offerId: '1', agentUuid: AGENT_UUID, installMode: 'trial' }, 'offerId'],
      [{ offerId: 1, agentUuid: 'not-a-uuid', installMode: 'trial' }, 'agentUuid'],
      [{ offerId: 1, agentUuid: AGENT_UUID, installMode: 'forever' }, 'installMode'],
      [{ offerId: 1, agentUuid: AGENT_UUID, installMode: 'trial', notes: 5 }, 'notes'],
      [{ offerId: 1, agentUuid: AGENT_UUID, installMode: 'trial', extra: true }, 'extra'],
      [{ offer_id: 1, agentUuid: AGENT_UUID, installMode: 'trial' }, 'offer_id'],
    ])('answers 400 naming the field for %j', async (body, field) => {
      const res = await install(body);
      expect(res.status).toBe(400);
      const err = (await json(res)).error;
      expect(err.code).toBe('validation_failed');
      expect(err.details.map((d: Json) => d.path)).toContain(field);
    });

    it('answers 400 for a body that is not JSON', async () => {
      const res = await t.request(INSTALL, { body: '{"offerId": 1,' });
      expect(res.status).toBe(400);
      expect((await json(res)).error.code).toBe('invalid_json');
    });

    it('answers 403 for a standard token and installs nothing', async () => {
      await agent();
      const res = await install(
        { offerId: 1, agentUuid: AGENT_UUID, installMode: 'trial' },
        t.tokens.standard,
      );
      expect(res.status).toBe(403);
      expect((await json(await t.request(`${LIST}/1`))).install_count).toBe(0);
    });

    it('answers 401 without a token', async () => {
      const res = await t.request(INSTALL, {
        body: { offerId: 1, agentUuid: AGENT_UUID, installMode: 'trial' },
        token: null,
      });
      expect(res.status).toBe(401);
    });
  });

  it('documents every marketplace route in the OpenAPI document', async () => {
    const doc = await json(await t.request('/api/openapi.json', { token: null }));
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([LIST, `${LIST}/{id}`, INSTALL]));
    expect(doc.paths[INSTALL].post['x-required-tier']).toBe('root');
  });
});
