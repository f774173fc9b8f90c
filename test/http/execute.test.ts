// POST .../runtime/execute: each intent's happy path and effect, each error of SPEC §8 in its order,
// the paused runtime, priorities of queued work, and tiers.
import { afterEach, describe, expect, it } from 'vitest';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { one, rows } from '../inbox/db-view.js';
import { attachAgent, type Bench, enqueue, startBench } from '../outbound/harness.js';
import { deliver, deliveryOf, messagesChange, signed } from '../webhook/deliveries.js';

const PATH = '/api/extensions/native-whatsapp/runtime/execute';
const CUSTOMER = '4917000000501';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
});

interface Setup {
  t: TestApp;
  agent: string;
  conversation: string;
}

async function setup(
  config: Record<string, unknown> = {},
  text = 'hello, what does it cost?',
): Promise<Setup> {
  const t = await createTestApp({ config });
  cleanups.push(() => t.close());
  await attachAgent(t);
  await customerWrites(t, text);
  return {
    t,
    agent: one<{ uuid: string }>(t, 'select uuid from agents').uuid,
    conversation: one<{ id: string }>(t, 'select id from conversations').id,
  };
}

async function customerWrites(t: TestApp, body: string, from = CUSTOMER): Promise<void> {
  const ts = Math.floor(t.clock.now() / 1000);
  await deliver(t, signed(deliveryOf([messagesChange([{ wa_id: from }], [{ from, timestamp: ts, body }])])));
}

function execute(s: Setup, intent: string, context: Record<string, unknown> = {}, token?: string | null) {
  return s.t.request(PATH, {
    method: 'POST',
    body: {
      agent_uuid: s.agent,
      intent,
      context: { platform: 'whatsapp', conversation_id: s.conversation, ...context },
    },
    ...(token === undefined ? {} : { token }),
  });
}

const outboxRows = (t: TestApp) =>
  rows<{ state: string; priority: number; payload: string; kind: string }>(
    t,
    'select * from outbox order by id',
  );

describe('intents', () => {
  it('route_conversation with a route moves the conversation there and records it', async () => {
    const s = await setup();
    const res = await execute(s, 'route_conversation', {
      route: 'human',
      priority: 'high',
      resource: 'snapshot',
    });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({
      intent: 'route_conversation',
      status: 'done',
      snapshot: { conversation_id: s.conversation, assigned_route: 'human', queue_state: 'open' },
    });
    const detail = await json(
      await s.t.request(`/api/extensions/native-whatsapp/runtime/conversations/${s.conversation}`),
    );
    expect(detail.transitions.at(-1)).toMatchObject({ reason: 'routed_to_human', actor: `agent:${s.agent}` });
  });

  it('route_conversation without a route re-classifies with the current classes', async () => {
    const s = await setup();
    const version = (await json(await s.t.request('/api/extensions/native-whatsapp/management/config')))
      .version;
    const put = await s.t.request('/api/extensions/native-whatsapp/management/config', {
      method: 'PUT',
      body: {
        version,
        conversation_classes: [
          { name: 'sales', match: { keywords: ['cost'] }, route: 'human', priority: 'high' },
        ],
      },
    });
    expect(put.status).toBe(200);
    const body = await json(await execute(s, 'route_conversation'));
    expect(body.classification).toEqual({ class: 'sales', route: 'human', priority: 'high' });
    expect(body.snapshot).toMatchObject({
      conversation_class: 'sales',
      assigned_route: 'human',
      priority: 'high',
    });
  });

  it('reply_conversation queues the text (202) and it is sent', async () => {
    const s = await setup();
    const res = await execute(s, 'reply_conversation', { text: 'It costs 10 EUR.' });
    expect(res.status).toBe(202);
    const body = await json(res);
    expect(body).toMatchObject({
      intent: 'reply_conversation',
      status: 'queued',
      snapshot: { queue_pressure: 2 },
    });
    expect(body.outbox_id).toEqual(expect.any(String));
    await s.t.deps.outbound.sender.drain();
    expect(outboxRows(s.t).map((r) => r.state)).toEqual(['sent']);
    expect(one(s.t, 'select queue_state, pending_outbound from conversations')).toEqual({
      queue_state: 'pending',
      pending_outbound: 0,
    });
  });

  it('reply_conversation with text outside the window is 409 window_closed; a template still goes', async () => {
    const s = await setup();
    s.t.clock.advance(25 * 60 * 60_000);
    const res = await execute(s, 'reply_conversation', { text: 'Sorry for the wait' });
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe('window_closed');
    expect(outboxRows(s.t)).toEqual([]);
    const tpl = await execute(s, 'reply_conversation', { template: { name: 'follow_up', language: 'en' } });
    expect(tpl.status).toBe(202);
    expect(JSON.parse(outboxRows(s.t)[0]?.payload ?? '{}').content.type).toBe('template');
  });

  it('reply_conversation without text or template is a 400 naming context.text', async () => {
    const s = await setup();
    const res = await execute(s, 'reply_conversation');
    expect(res.status).toBe(400);
    expect((await json(res)).error.details[0].path).toBe('context.text');
  });

  it('score_conversation returns the score with its reasons', async () => {
    const s = await setup({}, 'This is terrible, I want a refund!');
    const res = await execute(s, 'score_conversation');
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.score.sentiment).toBeLessThan(0);
    expect(body.score.reasons.length).toBeGreaterThan(0);
    expect(one(s.t, 'select intent from conversations')).toEqual({ intent: body.score.intent });
  });

  it('follow_up_conversation schedules the next follow-up at context.at and the tick sends it', async () => {
    const s = await setup({ follow_up_rules: [{ id: 'nudge', after: '4h', text: 'Still there?' }] });
    await execute(s, 'reply_conversation', { text: 'Here you go' });
    await s.t.deps.outbound.sender.drain();
    const at = new Date(s.t.clock.now() + 10 * 60_000).toISOString();
    const res = await execute(s, 'follow_up_conversation', { at });
    expect(res.status).toBe(202);
    expect((await json(res)).follow_up).toMatchObject({ rule_id: 'nudge', due_at: at });
    s.t.clock.advance(10 * 60_000);
    await s.t.deps.outbound.scheduler.tick();
    await s.t.deps.outbound.sender.drain();
    expect(outboxRows(s.t).map((r) => [r.kind, r.state])).toEqual([
      ['manual', 'sent'],
      ['follow_up', 'sent'],
    ]);
  });

  it('follow_up_conversation asked for inside quiet hours is due when they end, like a planned one', async () => {
    // The test app's clock starts at 2026-01-05T08:00:00Z.
    const s = await setup({
      follow_up_rules: [{ id: 'nudge', after: '4h', text: 'Still there?' }],
      quiet_hours: { start: '08:05', end: '09:00', timezone: 'UTC' },
    });
    await execute(s, 'reply_conversation', { text: 'Here you go' });
    await s.t.deps.outbound.sender.drain();
    const res = await execute(s, 'follow_up_conversation', { at: '2026-01-05T08:10:00.000Z' });
    expect(res.status).toBe(202);
    expect((await json(res)).follow_up).toMatchObject({
      rule_id: 'nudge',
      due_at: '2026-01-05T09:00:00.000Z',
    });
    expect(one(s.t, 'select due_at from follow_ups where state = ?', 'scheduled')).toEqual({
      due_at: Date.parse('2026-01-05T09:00:00Z'),
    });
  });

  it('follow_up_conversation on a conversation that is not pending is 409 invalid_state', async () => {
    const s = await setup({ follow_up_rules: [{ id: 'nudge', after: '4h', text: 'Still there?' }] });
    const res = await execute(s, 'follow_up_conversation');
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe('invalid_state');
  });

  it('escalate_conversation then close_conversation; closing twice is 409', async () => {
    const s = await setup();
    const esc = await json(await execute(s, 'escalate_conversation', { reason: 'vip customer' }));
    expect(esc.snapshot).toMatchObject({
      queue_state: 'escalated',
      assigned_route: 'human',
      escalation_reason: 'vip customer',
    });
    const closed = await json(await execute(s, 'close_conversation'));
    expect(closed.snapshot).toMatchObject({ queue_state: 'closed', closed_reason: 'intent' });
    const again = await execute(s, 'close_conversation');
    expect(again.status).toBe(409);
    expect((await json(again)).error.code).toBe('invalid_state');
  });

  it('publish_campaign of an unknown campaign is 404; without campaign_id a 400', async () => {
    const s = await setup();
    const res = await execute(s, 'publish_campaign', { campaign_id: 'nope' });
    expect(res.status).toBe(404);
    const missing = await execute(s, 'publish_campaign');
    expect(missing.status).toBe(400);
    expect((await json(missing)).error.details[0].path).toBe('context.campaign_id');
  });
});

describe('publish_campaign', () => {
  async function withCampaign(): Promise<Setup & { campaign: string }> {
    const s = await setup({ templates: [{ name: 'welcome', language: 'en' }] });
    const res = await s.t.request('/api/extensions/native-whatsapp/runtime/campaigns', {
      body: {
        name: 'Promo',
        agent_uuid: s.agent,
        template: { name: 'welcome', language: 'en' },
        recipients: [{ wa_id: '4915300000001' }],
      },
    });
    expect(res.status).toBe(201);
    return { ...s, campaign: (await json(res)).id };
  }

  it("starts the agent's draft campaign (202, snapshot null)", async () => {
    const s = await withCampaign();
    const res = await execute(s, 'publish_campaign', { campaign_id: s.campaign });
    expect(res.status).toBe(202);
    expect(await json(res)).toMatchObject({
      intent: 'publish_campaign',
      status: 'queued',
      snapshot: null,
      campaign: { id: s.campaign, state: 'running' },
    });
  });

  it("another agent's campaign is 404 and stays a draft", async () => {
    const s = await withCampaign();
    const other = await json(await s.t.request('/api/agents', { body: { name: 'Other' } }));
    await s.t.request('/api/marketplace/extensions/install', {
      body: { offerId: 1, agentUuid: other.uuid, installMode: 'purchase' },
    });
    const res = await execute({ ...s, agent: other.uuid }, 'publish_campaign', { campaign_id: s.campaign });
    expect(res.status).toBe(404);
    expect(one(s.t, 'select state from campaigns')).toEqual({ state: 'draft' });
  });

  it('while paused is 409 runtime_paused and the campaign stays a draft', async () => {
    const s = await withCampaign();
    await s.t.request('/api/extensions/native-whatsapp/management/recovery', {
      body: { action: 'pause_runtime' },
    });
    const res = await execute(s, 'publish_campaign', { campaign_id: s.campaign });
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe('runtime_paused');
    expect(one(s.t, 'select state from campaigns')).toEqual({ state: 'draft' });
  });
});

describe('queued work by context.priority', () => {
  let b: Bench;
  afterEach(async () => {
    await b?.close();
  });

  it('a high-priority reply queued after a low one is sent first', async () => {
    b = await startBench({ config: { outbound: { concurrency: 1 } } });
    await customerWrites(b.t, 'first');
    await customerWrites(b.t, 'second', '4917000000502');
    const agent = one<{ uuid: string }>(b.t, 'select uuid from agents').uuid;
    const [c1, c2] = rows<{ id: string }>(b.t, 'select id from conversations order by id').map((r) => r.id);
    const s = (conversation: string | undefined) => ({ t: b.t, agent, conversation: conversation as string });
    // A slow first send holds the only slot while both replies are queued behind it.
    b.graph.next({ accept: true, delayMs: 500 });
    await enqueue(b.t, { text: 'blocker', to: { wa_id: '4917000000503' } });
    b.t.deps.outbound.sender.wake();
    expect((await execute(s(c1), 'reply_conversation', { text: 'low', priority: 'low' })).status).toBe(202);
    expect((await execute(s(c2), 'reply_conversation', { text: 'high', priority: 'high' })).status).toBe(202);
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests.map((r) => (r.body as { text: { body: string } }).text.body)).toEqual([
      'blocker',
      'high',
      'low',
    ]);
  });
});

describe('errors', () => {
  it('an unsupported intent is 422 listing the supported ones', async () => {
    const s = await setup();
    const res = await execute(s, 'monetize');
    expect(res.status).toBe(422);
    const err = (await json(res)).error;
    expect(err.code).toBe('unsupported_intent');
    expect(err.details.supported).toContain('reply_conversation');
    expect(err.details.supported).toHaveLength(7);
  });

  it('an unknown agent is 404', async () => {
    const s = await setup();
    const res = await execute({ ...s, agent: 'no-such-agent' }, 'close_conversation');
    expect(res.status).toBe(404);
  });

  it('an agent without an active attachment is 409 extension_not_active', async () => {
    const s = await setup();
    const created = await json(await s.t.request('/api/agents', { body: { name: 'Queued' } }));
    await s.t.request('/api/marketplace/extensions/install', {
      body: { offerId: 1, agentUuid: created.uuid, installMode: 'queued' },
    });
    const res = await execute({ ...s, agent: created.uuid }, 'close_conversation');
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe('extension_not_active');
  });

  it("another agent's conversation is 404, as an unknown one", async () => {
    const s = await setup();
    const other = await json(await s.t.request('/api/agents', { body: { name: 'Other' } }));
    await s.t.request('/api/marketplace/extensions/install', {
      body: { offerId: 1, agentUuid: other.uuid, installMode: 'purchase' },
    });
    const res = await execute({ ...s, agent: other.uuid }, 'close_conversation');
    expect(res.status).toBe(404);
    expect(one(s.t, 'select queue_state from conversations')).toEqual({ queue_state: 'open' });
    expect((await execute({ ...s, conversation: 'nope' }, 'close_conversation')).status).toBe(404);
  });

  it('context.platform other than whatsapp is a 400', async () => {
    const s = await setup();
    const res = await execute(s, 'close_conversation', { platform: 'telegram' });
    expect(res.status).toBe(400);
    expect((await json(res)).error.details[0].path).toBe('context.platform');
  });

  it('while paused, intents that send are 409 runtime_paused and nothing is queued; others work', async () => {
    const s = await setup();
    await s.t.request('/api/extensions/native-whatsapp/management/recovery', {
      body: { action: 'pause_runtime' },
    });
    const res = await execute(s, 'reply_conversation', { text: 'hello' });
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe('runtime_paused');
    expect(outboxRows(s.t)).toEqual([]);
    expect((await execute(s, 'escalate_conversation')).status).toBe(200);
  });

  it('a standard token may execute; no token is 401', async () => {
    const s = await setup();
    expect((await execute(s, 'score_conversation', {}, s.t.tokens.standard)).status).toBe(200);
    expect((await execute(s, 'score_conversation', {}, null)).status).toBe(401);
  });
});
