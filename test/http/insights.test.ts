// GET .../runtime/insights: every SPEC §8 number checked exactly against a history built with the
// fake clock (turns answered and not, a partial first hour, follow-ups sent and pending, escalation,
// queued outbound), per agent and for every agent, plus status, trend, errors and tiers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { one } from '../inbox/db-view.js';
import { attachAgent, enqueue } from '../outbound/harness.js';
import { deliver, deliveryOf, messagesChange, signed } from '../webhook/deliveries.js';

const PATH = '/api/extensions/native-whatsapp/runtime/insights';
const at = (hhmm: string) => Date.parse(`2026-01-05T${hhmm}:00Z`);

let t: TestApp;
let agentUuid: string;

afterEach(async () => {
  await t?.close();
});

async function customerWrites(from: string, body: string, hhmm: string): Promise<void> {
  const ts = at(hhmm) / 1000;
  await deliver(t, signed(deliveryOf([messagesChange([{ wa_id: from }], [{ from, timestamp: ts, body }])])));
}

function conversationOf(from: string) {
  return one<{ id: string; contact_id: string }>(
    t,
    `select c.id, c.contact_id from conversations c join contacts k on k.id = c.contact_id
     where k.wa_id = ? order by c.id desc limit 1`,
    from,
  );
}

/** The business answers at the fake clock's time (the sandbox accepts at once). */
async function businessReplies(from: string, hhmm: string): Promise<void> {
  t.clock.set(at(hhmm));
  const conv = conversationOf(from);
  await enqueue(t, { conversation_id: conv.id, contact_id: conv.contact_id, to: { wa_id: from } });
  await t.deps.outbound.sender.drain();
}

async function insight(query = '', token?: string) {
  const res = await t.request(`${PATH}${query}`, token ? { token } : {});
  return { status: res.status, body: await json(res) };
}

const C1 = '4917000000401';
const C2 = '4917000000402';
const C3 = '4917000000403';
const C4 = '4917000000404';

/**
 * 08:00 C1 writes, 08:00:30 again (one turn), 08:02 answered (120 s). 08:10 C2 writes, 08:15 answered
 * (300 s), 08:20 C2 writes again (unanswered). 08:30 C3 writes, 09:30 answered (3600 s). 09:40 C4
 * asks for a human (escalated, unanswered). Follow-up rule "nudge" after 30m: C1's goes out at 08:32;
 * C2's is cancelled by its reply at 08:20; C3's is due at 10:00.
 */
async function buildHistory(): Promise<void> {
  t = await createTestApp({
    start: '2026-01-05T08:00:00Z',
    config: { follow_up_rules: [{ id: 'nudge', after: '30m', text: 'Still there?' }] },
  });
  await attachAgent(t);
  agentUuid = one<{ uuid: string }>(t, 'select uuid from agents').uuid;

  await customerWrites(C1, 'hello', '08:00');
  await deliver(
    t,
    signed(
      deliveryOf([
        messagesChange([{ wa_id: C1 }], [{ from: C1, timestamp: at('08:00') / 1000 + 30, body: 'anyone?' }]),
      ]),
    ),
  );
  await businessReplies(C1, '08:02');
  t.clock.set(at('08:10'));
  await customerWrites(C2, 'question', '08:10');
  await businessReplies(C2, '08:15');
  t.clock.set(at('08:20'));
  await customerWrites(C2, 'another question', '08:20');
  t.clock.set(at('08:30'));
  await customerWrites(C3, 'price?', '08:30');
  t.clock.set(at('08:32'));
  await t.deps.outbound.scheduler.tick();
  await t.deps.outbound.sender.drain();
  await businessReplies(C3, '09:30');
  // Delivered late: the turn starts at the message's own timestamp, not at its arrival.
  t.clock.set(at('09:45'));
  await customerWrites(C4, 'I want to talk to a human', '09:40');
  t.clock.set(at('10:00'));
}

describe('insights over a known history', () => {
  beforeEach(async () => {
    await buildHistory();
  });

  it('counts every metric of the agent exactly over 24h', async () => {
    // One reply to C3 waits in the outbox (due later): not yet accepted by the API.
    const c3 = conversationOf(C3);
    await enqueue(t, {
      conversation_id: c3.id,
      contact_id: c3.contact_id,
      to: { wa_id: C3 },
      not_before: at('11:00'),
    });
    const { status, body } = await insight(`?agent_uuid=${agentUuid}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      extension_slug: 'native-whatsapp',
      platform: 'whatsapp',
      agent_uuid: agentUuid,
      status: 'active',
      window: '24h',
      window_start: '2026-01-04T10:00:00.000Z',
      updated_at: '2026-01-05T10:00:00.000Z',
      controls: { automation_mode: 'assisted', access_tier: 'standard' },
    });
    expect(body.metrics).toEqual({
      reply_rate: 3 / 5,
      queue_pressure: 3, // C2 and C4 wait for an answer, plus one queued send
      conversations_active: 4,
      conversations_open: 1,
      conversations_pending: 2,
      conversations_escalated: 1,
      customer_turns: 5,
      answered_turns: 3,
      first_response_p50_seconds: 300,
      first_response_p90_seconds: 3600,
      first_response_exact: true,
      follow_up_coverage: 1 / 2, // C1's was sent; C3's point (10:00) is reached, nothing sent yet
      campaign_response_rate: null,
      unanswered_conversations: 2,
      outbound_pending: 1,
    });
    expect(body.summary).toBe(
      'Replied to 60% of 5 customer turns in the last 24h (median first response 5m); 4 active conversations, 3 waiting in the queue.',
    );
  });

  it('a follow-up accepted by the API covers its silence', async () => {
    await t.deps.outbound.scheduler.tick();
    await t.deps.outbound.sender.drain();
    const { body } = await insight(`?agent_uuid=${agentUuid}`);
    expect(body.metrics.follow_up_coverage).toBe(1);
  });

  it('counts only turns that started in the window, the partial first hour included', async () => {
    t.clock.set(at('10:30'));
    const { body } = await insight(`?agent_uuid=${agentUuid}&window=2h&trend=1h`);
    expect(body.window_start).toBe('2026-01-05T08:30:00.000Z');
    // C3's turn (08:30, answered in 3600 s) and C4's (09:40, unanswered); C2's 08:20 turn is out.
    expect(body.metrics).toMatchObject({
      customer_turns: 2,
      answered_turns: 1,
      reply_rate: 0.5,
      first_response_p50_seconds: 3600,
      first_response_p90_seconds: 3600,
      // C1's silence reached its point at 08:32, inside; C3's at 10:00, inside.
      follow_up_coverage: 0.5,
    });
    expect(body.trend).toEqual([
      {
        start: '2026-01-05T08:30:00.000Z',
        end: '2026-01-05T09:00:00.000Z',
        customer_turns: 1,
        answered_turns: 1,
        reply_rate: 1,
      },
      {
        start: '2026-01-05T09:00:00.000Z',
        end: '2026-01-05T10:00:00.000Z',
        customer_turns: 1,
        answered_turns: 0,
        reply_rate: 0,
      },
      {
        start: '2026-01-05T10:00:00.000Z',
        end: '2026-01-05T10:30:00.000Z',
        customer_turns: 0,
        answered_turns: 0,
        reply_rate: null,
      },
    ]);
  });

  it('a turn starts at its first message timestamp, not when the delivery arrived', async () => {
    t.clock.set(at('10:42'));
    const { body } = await insight(`?agent_uuid=${agentUuid}&window=1h`);
    expect(body.metrics.customer_turns).toBe(0); // C4 wrote at 09:40 (arrived 09:45); W starts 09:42
  });

  it('reads whole days from the day rollups with the same numbers', async () => {
    t.clock.set(Date.parse('2026-01-08T10:00:00Z'));
    const { body } = await insight(`?agent_uuid=${agentUuid}&window=7d`);
    expect(body.metrics).toMatchObject({
      customer_turns: 5,
      answered_turns: 3,
      reply_rate: 3 / 5,
      first_response_p50_seconds: 300,
      first_response_p90_seconds: 3600,
      follow_up_coverage: 1 / 2,
    });
    const all = await insight('?window=7d');
    expect(all.body.metrics).toMatchObject({
      customer_turns: 5,
      answered_turns: 3,
      follow_up_coverage: 1 / 2,
    });
  });

  it('has no rates when no turn started in the window', async () => {
    t.clock.set(at('23:00'));
    const { body } = await insight(`?agent_uuid=${agentUuid}&window=1h`);
    expect(body.metrics).toMatchObject({
      customer_turns: 0,
      reply_rate: null,
      first_response_p50_seconds: null,
      first_response_p90_seconds: null,
      follow_up_coverage: null,
      conversations_active: 4,
    });
    expect(body.summary).toMatch(/^No customer turns in the last 1h; 4 active conversations/);
  });

  it('without agent_uuid covers every agent as "*"', async () => {
    const { body } = await insight();
    expect(body.agent_uuid).toBe('*');
    expect(body.metrics).toMatchObject({ customer_turns: 5, answered_turns: 3, conversations_active: 4 });
  });

  it('another agent sees none of these conversations', async () => {
    const res = await t.request('/api/agents', { body: { name: 'Other' } });
    const other = (await json(res)).uuid as string;
    const { body } = await insight(`?agent_uuid=${other}`);
    expect(body.metrics).toMatchObject({
      customer_turns: 0,
      conversations_active: 0,
      queue_pressure: 0,
      reply_rate: null,
    });
  });

  it('a closed conversation leaves the active counts and the queue pressure', async () => {
    const c4 = conversationOf(C4);
    const res = await t.request('/api/extensions/native-whatsapp/runtime/execute', {
      body: {
        agent_uuid: agentUuid,
        intent: 'close_conversation',
        context: { platform: 'whatsapp', conversation_id: c4.id },
      },
    });
    expect(res.status).toBe(200);
    const { body } = await insight(`?agent_uuid=${agentUuid}`);
    expect(body.metrics).toMatchObject({
      conversations_active: 3,
      conversations_escalated: 0,
      queue_pressure: 1,
    });
  });
});

describe('campaign_response_rate', () => {
  it('is the share of recipients sent in W who wrote back within the attribution window', async () => {
    t = await createTestApp({
      config: { templates: [{ name: 'welcome', language: 'en' }], campaigns: { attribution_window: '1h' } },
    });
    await attachAgent(t);
    agentUuid = one<{ uuid: string }>(t, 'select uuid from agents').uuid;
    const recipients = ['4915300000001', '4915300000002', '4915300000003'];
    const created = await t.request('/api/extensions/native-whatsapp/runtime/campaigns', {
      body: {
        name: 'Promo',
        agent_uuid: agentUuid,
        template: { name: 'welcome', language: 'en' },
        recipients: recipients.map((wa_id) => ({ wa_id })),
      },
    });
    expect(created.status).toBe(201);
    const campaignId = (await json(created)).id as string;
    expect((await insight(`?agent_uuid=${agentUuid}`)).body.metrics.campaign_response_rate).toBeNull();

    const published = await t.request('/api/extensions/native-whatsapp/runtime/execute', {
      body: {
        agent_uuid: agentUuid,
        intent: 'publish_campaign',
        context: { platform: 'whatsapp', campaign_id: campaignId },
      },
    });
    expect(published.status).toBe(202);
    expect((await json(published)).campaign.state).toBe('running');
    await t.deps.campaigns.feeder.feed();
    await t.deps.outbound.sender.drain();
    expect(one(t, 'select count(*) as n from campaign_recipients where sent_at is not null')).toEqual({
      n: 3,
    });

    // The first writes back after 30 minutes (attributed), the second after two hours (too late).
    t.clock.advance(30 * 60_000);
    await customerWrites(recipients[0] as string, 'yes please', '08:30');
    t.clock.advance(90 * 60_000);
    await customerWrites(recipients[1] as string, 'what is this?', '10:00');
    t.clock.advance(60 * 60_000);
    const { body } = await insight(`?agent_uuid=${agentUuid}`);
    expect(body.metrics.campaign_response_rate).toBe(1 / 3);
    // Sent before a 1h window: no campaign sends in W.
    expect(
      (await insight(`?agent_uuid=${agentUuid}&window=1h`)).body.metrics.campaign_response_rate,
    ).toBeNull();
  });
});

describe('status', () => {
  beforeEach(async () => {
    t = await createTestApp();
  });

  it('is paused while root paused the runtime', async () => {
    await t.request('/api/extensions/native-whatsapp/management/recovery', {
      body: { action: 'pause_runtime' },
    });
    const { body } = await insight();
    expect(body.status).toBe('paused');
    expect(body.summary).toMatch(/^Paused by root: nothing is sent\./);
  });

  it('is degraded while a channel is stopped, with the reason', async () => {
    t.deps.runtime.channelProblem({
      phone_number_id: '106540352242922',
      kind: 'auth',
      code: 190,
      title: 'Invalid OAuth access token',
      since: t.clock.now(),
    });
    const { body } = await insight();
    expect(body.status).toBe('degraded');
    expect(body.status_reasons[0]).toContain('Invalid OAuth access token');
    expect(body.summary).toMatch(/^Degraded: sending on 106540352242922 is stopped/);
  });

  it('is active otherwise', async () => {
    expect((await insight()).body).toMatchObject({ status: 'active', status_reasons: [] });
  });
});

describe('errors and tiers', () => {
  beforeEach(async () => {
    t = await createTestApp();
  });

  it('a standard token may read insights', async () => {
    expect((await insight('', t.tokens.standard)).status).toBe(200);
  });

  it('no token is 401', async () => {
    expect((await t.request(PATH, { token: null })).status).toBe(401);
  });

  it('an unknown agent is 404', async () => {
    const { status, body } = await insight('?agent_uuid=nope');
    expect(status).toBe(404);
    expect(body.error.code).toBe('not_found');
  });

  it.each([['30m'], ['31d'], ['soon'], ['0h']])('window=%s is a 400 naming window', async (w) => {
    const { status, body } = await insight(`?window=${w}`);
    expect(status).toBe(400);
    expect(body.error.details[0].path).toBe('window');
  });

  it('trend other than 1h, or an unknown parameter, is a 400', async () => {
    expect((await insight('?trend=5m')).body.error.details[0].path).toBe('trend');
    expect((await insight('?foo=1')).body.error.details[0].path).toBe('foo');
  });

  it('accepts windows from 1h to 30d', async () => {
    expect((await insight('?window=1h')).body.window).toBe('1h');
    expect((await insight('?window=30d')).body.window).toBe('30d');
  });
});
