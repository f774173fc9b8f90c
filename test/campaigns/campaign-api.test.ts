// The campaign API (SPEC §7, §8): creation and each of its errors, the state commands and their 409s,
// tiers, listing and recipient pages, start_at, quiet hours, pause/resume without a second send, and
// an opt-out while a campaign waits.
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/daemon-process.js';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { one, rows } from '../inbox/db-view.js';
import { attachAgent, type Bench, startBench } from '../outbound/harness.js';
import { deliver, deliveryOf, fixture, messagesChange, PNID, signed } from '../webhook/deliveries.js';

const BASE = '/api/extensions/native-whatsapp/runtime/campaigns';
const TEMPLATE = { name: 'order_shipped', language: 'pt_BR' };
const SANDBOX_TEMPLATE = { name: 'welcome', language: 'en' };

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

const number = (i: number) => `4915300${String(i).padStart(6, '0')}`;
const list = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ wa_id: number(from + i) }));

async function cloud(
  config: Record<string, unknown> = {},
  agent: 'active' | 'none' = 'active',
): Promise<Bench> {
  const b = await startBench({
    config: { outbound: { rate_per_second: 200, concurrency: 8 }, ...config },
    agent,
  });
  closers.push(() => b.close());
  await deliver(b.t, fixture('field_message_template_status_approved.json'));
  return b;
}

async function sandbox(config: Record<string, unknown> = {}): Promise<TestApp> {
  const t = await createTestApp({
    config: { templates: [SANDBOX_TEMPLATE], outbound: { rate_per_second: 200, concurrency: 8 }, ...config },
  });
  closers.push(() => t.close());
  await attachAgent(t);
  return t;
}

const agentUuid = (t: TestApp) => one<{ uuid: string }>(t, 'select uuid from agents limit 1').uuid;

async function create(t: TestApp, body: Record<string, unknown>, token?: string): Promise<Response> {
  return t.request(BASE, {
    body: { name: 'Promo', agent_uuid: agentUuid(t), template: TEMPLATE, recipients: list(3), ...body },
    ...(token ? { token } : {}),
  });
}

async function created(t: TestApp, body: Record<string, unknown> = {}): Promise<string> {
  const res = await create(t, body);
  expect(res.status).toBe(201);
  return (await json(res)).id;
}

const cmd = (t: TestApp, id: string, name: string) => t.request(`${BASE}/${id}/${name}`, { method: 'POST' });
const get = async (t: TestApp, id: string) => json(await t.request(`${BASE}/${id}`));
const sendsTo = (b: Bench) => b.graph.requests.map((r) => (r.body as { to: string }).to);

describe('POST /campaigns', () => {
  it('creates a draft with every recipient queued and no response rate yet', async () => {
    const { t } = await cloud();
    const res = await create(t, { recipients: list(5), start_at: '2026-02-01T09:00:00Z' });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body).toMatchObject({
      state: 'draft',
      name: 'Promo',
      agent_uuid: agentUuid(t),
      phone_number_id: PNID,
      template: TEMPLATE,
      rate_per_second: 10,
      start_at: '2026-02-01T09:00:00.000Z',
      recipients: 5,
      counts: { queued: 5, sent: 0, delivered: 0, read: 0, replied: 0, failed: 0, skipped_opted_out: 0 },
      response_rate: null,
      duplicates: [],
      started_at: null,
      completed_at: null,
    });
    expect(await get(t, body.id)).toMatchObject({ state: 'draft', recipients: 5 });
  });

  it('merges duplicate numbers and lists them by index', async () => {
    const { t } = await cloud();
    const res = await create(t, { recipients: [...list(2), { wa_id: number(0) }, { wa_id: number(1) }] });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.recipients).toBe(2);
    expect(body.duplicates).toEqual([
      { index: 2, wa_id: number(0), first_index: 0 },
      { index: 3, wa_id: number(1), first_index: 1 },
    ]);
  });

  it('refuses a list with bad numbers, naming each by index, and creates nothing', async () => {
    const { t } = await cloud();
    const res = await create(t, {
      recipients: [{ wa_id: number(0) }, { wa_id: '+49 170' }, { wa_id: number(2), parameters: [7] }],
    });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details.map((d: { path: string }) => d.path)).toEqual([
      'recipients.1.wa_id',
      'recipients.2.parameters.0',
    ]);
    expect(one<{ n: number }>(t, 'select count(*) as n from campaigns').n).toBe(0);
  });

  it.each([
    ['unknown', { name: 'no_such_template', language: 'en' }],
    ['known in another language', { name: 'order_shipped', language: 'en' }],
  ])('refuses a template that is %s with 400 template_not_found', async (_name, template) => {
    const { t } = await cloud();
    const res = await create(t, { template });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe('template_not_found');
  });

  it('refuses a template the cache has as rejected', async () => {
    const { t } = await cloud();
    await deliver(t, fixture('field_message_template_status_rejected.json'));
    const rejected = one<{ name: string; language: string }>(
      t,
      `select name, language from templates where status <> 'APPROVED' limit 1`,
    );
    const res = await create(t, { template: rejected });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe('template_not_found');
  });

  it('on the sandbox transport, takes templates declared in config as approved (and only those)', async () => {
    const t = await sandbox();
    expect((await create(t, { template: SANDBOX_TEMPLATE })).status).toBe(201);
    expect((await create(t, { template: { name: 'other', language: 'en' } })).status).toBe(400);
  });

  it('refuses a campaign above the messaging limit and says how to split it', async () => {
    const { t } = await cloud({ campaigns: { messaging_limit: 2 } });
    const res = await create(t, { recipients: list(3) });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe('messaging_limit_exceeded');
    expect(body.error.message).toMatch(/at most 2 recipients/);
    expect(body.error.details).toEqual({ recipients: 3, messaging_limit: 2 });
  });

  it('lets a standard token set a rate up to the default, and only root above it', async () => {
    const { t } = await cloud();
    expect((await create(t, { rate_per_second: 5 }, t.tokens.standard)).status).toBe(201);
    const res = await create(t, { rate_per_second: 50 }, t.tokens.standard);
    expect(res.status).toBe(403);
    expect((await json(res)).error.details[0].path).toBe('rate_per_second');
    expect((await create(t, { rate_per_second: 50 }, t.tokens.root)).status).toBe(201);
  });

  it("refuses a rate above the channel's cap even for root", async () => {
    const { t } = await cloud();
    const res = await create(t, { rate_per_second: 500 });
    expect(res.status).toBe(400);
    expect((await json(res)).error.details[0].path).toBe('rate_per_second');
  });

  it('answers 404 for an unknown agent and 401 without a token', async () => {
    const { t } = await cloud();
    expect((await create(t, { agent_uuid: 'no-such-agent' })).status).toBe(404);
    const res = await t.request(BASE, { body: {}, token: null });
    expect(res.status).toBe(401);
  });

  it('accepts 100,000 recipients in one request', async () => {
    const t = await sandbox();
    const recipients = Array.from({ length: 100_000 }, (_, i) => ({
      wa_id: `49160${String(i).padStart(8, '0')}`,
    }));
    const res = await create(t, { template: SANDBOX_TEMPLATE, recipients });
    expect(res.status).toBe(201);
    expect((await json(res)).counts.queued).toBe(100_000);
    expect(one<{ n: number }>(t, 'select count(*) as n from campaign_recipients').n).toBe(100_000);
  }, 60_000);
});

describe('campaign commands', () => {
  it.each([
    ['resume', 'a draft'],
    ['pause', 'a draft'],
  ])('answer 409 to %s on %s', async (command) => {
    const { t } = await cloud();
    const id = await created(t);
    const res = await cmd(t, id, command);
    expect(res.status).toBe(409);
    expect((await json(res)).error).toMatchObject({ code: 'invalid_state', details: { state: 'draft' } });
  });

  it('answer 409 to start twice and to anything after cancel', async () => {
    const { t } = await cloud();
    const id = await created(t, { start_at: '2030-01-01T00:00:00Z' });
    expect((await cmd(t, id, 'start')).status).toBe(200);
    expect((await cmd(t, id, 'start')).status).toBe(409);
    expect((await cmd(t, id, 'cancel')).status).toBe(200);
    for (const c of ['start', 'pause', 'resume', 'cancel']) expect((await cmd(t, id, c)).status).toBe(409);
    expect((await get(t, id)).state).toBe('cancelled');
  });

  it('answer 404 for an unknown campaign', async () => {
    const { t } = await cloud();
    expect((await cmd(t, 'nope', 'start')).status).toBe(404);
    expect((await t.request(`${BASE}/nope`)).status).toBe(404);
    expect((await t.request(`${BASE}/nope/recipients`)).status).toBe(404);
  });

  it('refuse to start for an agent without an active attachment', async () => {
    const b = await cloud({}, 'none');
    await b.t.request('/api/agents', { body: { name: 'Sales', phone_number_id: PNID } });
    const id = await created(b.t);
    const res = await cmd(b.t, id, 'start');
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe('extension_not_active');
  });

  it('start a campaign with a future start_at as scheduled, and send from start_at on', async () => {
    const b = await cloud();
    const { t } = b;
    const startAt = t.clock.now() + 3_600_000;
    const id = await created(t, { start_at: new Date(startAt).toISOString(), rate_per_second: 10 });
    expect((await json(await cmd(t, id, 'start'))).state).toBe('scheduled');
    await t.deps.campaigns.feeder.feed();
    expect(rows(t, 'select id from outbox')).toHaveLength(0);
    t.clock.set(startAt);
    await t.deps.campaigns.feeder.feed();
    expect((await get(t, id)).state).toBe('running');
    await waitFor(async () => (await get(t, id)).state === 'completed', 20_000);
    expect(sendsTo(b).sort()).toEqual([number(0), number(1), number(2)]);
  });

  it('hold sends during quiet hours and send when they end', async () => {
    // The test clock starts at 08:00 UTC; quiet until 09:00.
    const b = await cloud({ quiet_hours: { start: '07:00', end: '09:00', timezone: 'UTC' } });
    const { t } = b;
    const id = await created(t);
    expect((await json(await cmd(t, id, 'start'))).state).toBe('running');
    await t.deps.campaigns.feeder.feed();
    expect(rows(t, 'select id from outbox')).toHaveLength(0);
    t.clock.set('2026-01-05T09:00:00Z');
    await waitFor(async () => (await get(t, id)).state === 'completed', 20_000);
    expect(sendsTo(b)).toHaveLength(3);
  });

  it('pause and resume never send a recipient twice, and a paused campaign sends nothing', async () => {
    const b = await cloud();
    const { t, graph } = b;
    graph.setDefault({ accept: true, delayMs: 20 });
    const id = await created(t, { recipients: list(150), rate_per_second: 50 });
    await cmd(t, id, 'start');
    await waitFor(() => graph.requests.length >= 30, 20_000, 5);
    const paused = await json(await cmd(t, id, 'pause'));
    const atPauseAnswer = graph.requests.length;
    expect(paused.state).toBe('paused');
    // Sends already started finish; nothing else goes out while paused.
    await waitFor(
      () =>
        one<{ n: number }>(t, `select count(*) as n from outbox where state in ('queued', 'sending')`).n ===
        0,
      5_000,
    );
    const atPause = graph.requests.length;
    // At most the sends already in flight (concurrency 8) arrive after the pause was answered.
    expect(atPause - atPauseAnswer).toBeLessThanOrEqual(8);
    await new Promise((r) => setTimeout(r, 600));
    expect(graph.requests.length).toBe(atPause);
    expect(atPause).toBeLessThan(150);

    expect((await json(await cmd(t, id, 'resume'))).state).toBe('running');
    await waitFor(async () => (await get(t, id)).state === 'completed', 30_000);
    const sent = sendsTo(b);
    expect(sent).toHaveLength(150);
    expect(new Set(sent).size).toBe(150);
    expect((await get(t, id)).counts).toMatchObject({ queued: 0, sent: 150 });
  });

  it('cancel stops a running campaign; its unsent recipients stay queued and are never sent', async () => {
    const b = await cloud();
    const { t, graph } = b;
    const id = await created(t, { recipients: list(100), rate_per_second: 20 });
    await cmd(t, id, 'start');
    await waitFor(() => graph.requests.length >= 5, 20_000, 5);
    expect((await json(await cmd(t, id, 'cancel'))).state).toBe('cancelled');
    await waitFor(
      () =>
        one<{ n: number }>(t, `select count(*) as n from outbox where state in ('queued', 'sending')`).n ===
        0,
      5_000,
    );
    const atCancel = graph.requests.length;
    await t.deps.campaigns.feeder.feed();
    await new Promise((r) => setTimeout(r, 400));
    expect(graph.requests.length).toBe(atCancel);
    const c = await get(t, id);
    expect(c.state).toBe('cancelled');
    expect(c.counts.sent + c.counts.queued).toBe(100);
  });

  it('skip a customer who opts out while the campaign waits, cancelling their queued send', async () => {
    const b = await cloud();
    const { t } = b;
    const id = await created(t, { recipients: list(3), start_at: '2030-01-01T00:00:00Z' });
    await cmd(t, id, 'start');
    const now = Math.floor(t.clock.now() / 1000);
    await deliver(
      t,
      signed(
        deliveryOf([
          messagesChange([{ wa_id: number(1) }], [{ from: number(1), timestamp: now, body: 'STOP' }]),
        ]),
      ),
    );
    const c = await get(t, id);
    expect(c.counts).toMatchObject({ queued: 2, skipped_opted_out: 1 });
    const page = await json(await t.request(`${BASE}/${id}/recipients?state=skipped_opted_out`));
    expect(page.items.map((r: { wa_id: string }) => r.wa_id)).toEqual([number(1)]);
  });
});

describe('a failed campaign send retried by root', () => {
  it('moves its recipient from failed to sent, and the counts with it', async () => {
    const b = await cloud();
    const { t, graph } = b;
    graph.next({ error: 131026 });
    const id = await created(t, { recipients: list(1) });
    await cmd(t, id, 'start');
    await waitFor(async () => (await get(t, id)).state === 'completed', 20_000);
    expect((await get(t, id)).counts).toMatchObject({ failed: 1, sent: 0 });
    const res = await t.request('/api/extensions/native-whatsapp/management/recovery', {
      body: { action: 'retry_failed_sends' },
    });
    expect(res.status).toBe(200);
    t.deps.outbound.sender.wake();
    await waitFor(async () => (await get(t, id)).counts.sent === 1, 20_000);
    expect((await get(t, id)).counts).toMatchObject({ failed: 0, sent: 1 });
    expect(sendsTo(b)).toEqual([number(0), number(0)]);
  });
});

describe('GET /campaigns and /recipients', () => {
  it('pages campaigns newest first and filters by state and agent', async () => {
    const { t } = await cloud();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await created(t));
    await cmd(t, ids[0] as string, 'cancel');
    const first = await json(await t.request(`${BASE}?limit=2`));
    expect(first.items.map((c: { id: string }) => c.id)).toEqual([ids[4], ids[3]]);
    const second = await json(await t.request(`${BASE}?limit=2&cursor=${first.next_cursor}`));
    const third = await json(await t.request(`${BASE}?limit=2&cursor=${second.next_cursor}`));
    expect(third.items.map((c: { id: string }) => c.id)).toEqual([ids[0]]);
    expect(third.next_cursor).toBeNull();
    const cancelled = await json(await t.request(`${BASE}?state=cancelled`));
    expect(cancelled.items.map((c: { id: string }) => c.id)).toEqual([ids[0]]);
    const other = await json(await t.request(`${BASE}?agent_uuid=not-an-agent`));
    expect(other.items).toEqual([]);
    expect((await t.request(`${BASE}?limit=0`)).status).toBe(400);
    expect((await t.request(`${BASE}?cursor=garbage`)).status).toBe(400);
  });

  it('pages recipients in list order', async () => {
    const { t } = await cloud();
    const id = await created(t, { recipients: list(5) });
    const a = await json(await t.request(`${BASE}/${id}/recipients?limit=3`));
    expect(a.items.map((r: { index: number }) => r.index)).toEqual([0, 1, 2]);
    expect(a.items[0]).toMatchObject({ wa_id: number(0), state: 'queued', wamid: null, sent_at: null });
    const b = await json(await t.request(`${BASE}/${id}/recipients?limit=3&cursor=${a.next_cursor}`));
    expect(b.items.map((r: { index: number }) => r.index)).toEqual([3, 4]);
    expect(b.next_cursor).toBeNull();
    expect((await t.request(`${BASE}/${id}/recipients?state=bogus`)).status).toBe(400);
  });

  it('is readable with a standard token', async () => {
    const { t } = await cloud();
    const id = await created(t);
    expect((await t.request(`${BASE}/${id}`, { token: t.tokens.standard })).status).toBe(200);
    expect((await t.request(BASE, { token: t.tokens.standard })).status).toBe(200);
  });
});

describe('on the sandbox transport', () => {
  it('runs a campaign to completion with synthetic delivered statuses', async () => {
    const t = await sandbox();
    const id = await created(t, { template: SANDBOX_TEMPLATE, recipients: list(20), rate_per_second: 10 });
    await cmd(t, id, 'start');
    await waitFor(async () => {
      const c = await get(t, id);
      return c.state === 'completed' && c.counts.delivered === 20;
    }, 20_000);
  });
});
