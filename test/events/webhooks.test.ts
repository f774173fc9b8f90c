// Webhook subscriptions and their deliveries (SPEC §11) against a real local receiver that verifies
// every request with the official `standardwebhooks` package.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { rows } from '../inbox/db-view.js';
import { deliver, deliveryOf, messagesChange, signed } from '../webhook/deliveries.js';

const BASE = '/api/extensions/native-whatsapp/management/webhooks';
const T0 = 1767600000; // the fake clock's start, seconds

let t: TestApp;
let rx: WebhookReceiver;
beforeEach(async () => {
  t = await createTestApp();
  rx = await startWebhookReceiver();
});
afterEach(async () => {
  await rx.close();
  await t.close();
});

async function subscribe(body: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const res = await t.request(BASE, { body: { url: rx.url, types: ['*'], ...body } });
  expect(res.status).toBe(201);
  const out = (await json(res)) as { id: string; secret: string };
  rx.secrets.push(out.secret);
  rx.requests.length = 0;
  rx.acknowledged.length = 0;
  return out;
}

let n = 0;
async function customerWrites(waId: string, text = 'hello'): Promise<void> {
  n += 1;
  await deliver(
    t,
    signed(deliveryOf([messagesChange([{ wa_id: waId }], [{ from: waId, timestamp: T0 + n, body: text }])])),
  );
}

const drain = () => t.deps.events.delivery.drain();
const types = (list: { envelope: { type: string } }[]) => list.map((r) => r.envelope.type);

describe('creating a subscription', () => {
  it('answers 201 with a whsec_ secret once, a passed ping, and lists it without the secret', async () => {
    const res = await t.request(BASE, {
      body: { url: rx.url, types: ['message.received'], description: 'crm' },
    });
    expect(res.status).toBe(201);
    const body = (await json(res)) as Record<string, unknown>;
    expect(body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(body.test).toMatchObject({ ok: true, status_code: 204 });
    // The ping was signed like any delivery.
    rx.secrets.push(body.secret as string);
    expect(rx.requests).toHaveLength(1);
    const list = await json(await t.request(BASE));
    expect(JSON.stringify(list)).not.toContain(body.secret as string);
    expect(list.items[0]).toMatchObject({ id: body.id, types: ['message.received'], enabled: true });
    expect(list.items[0].health).toMatchObject({ status: 'new', pending: 0, dead: 0 });
    expect(rows(t, "select action from audit_log where action like 'webhooks.%'")).toEqual([
      { action: 'webhooks.create' },
    ]);
  });

  it('refuses a URL that is not http(s), one with credentials (never echoed) and one that does not answer', async () => {
    const ftp = await t.request(BASE, { body: { url: 'ftp://example.com/x', types: ['*'] } });
    expect(ftp.status).toBe(400);
    expect((await json(ftp)).error.details).toEqual([{ path: 'url', message: 'must be http or https' }]);
    const creds = await t.request(BASE, { body: { url: 'https://bob:hunter2@example.com/x', types: ['*'] } });
    expect(creds.status).toBe(400);
    expect(await creds.text()).not.toContain('hunter2');
    const closed = await startWebhookReceiver();
    const deadUrl = closed.url;
    await closed.close();
    const down = await t.request(BASE, { body: { url: deadUrl, types: ['*'] } });
    expect(down.status).toBe(400);
    expect((await json(down)).error.message).toContain('could not be reached');
    expect(rows(t, 'select id from event_subscriptions')).toHaveLength(0);
  });

  it('refuses unknown event types; a failing ping is reported, not fatal', async () => {
    const unknown = await t.request(BASE, { body: { url: rx.url, types: ['message.exploded'] } });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(await json(unknown))).toContain('types');
    rx.answer = () => ({ status: 500 });
    const res = await t.request(BASE, { body: { url: rx.url, types: ['*'] } });
    expect(res.status).toBe(201);
    expect((await json(res)).test).toMatchObject({ ok: false, status_code: 500 });
  });

  it('is root only', async () => {
    const res = await t.request(BASE, { body: { url: rx.url, types: ['*'] }, token: t.tokens.standard });
    expect(res.status).toBe(403);
  });
});

describe('delivery', () => {
  it('sends each event once, signed per Standard Webhooks, as the envelope', async () => {
    await subscribe();
    await customerWrites('4917000000001', 'Where is my order?');
    await drain();
    expect(types(rx.acknowledged)).toEqual(['conversation.opened', 'message.received']);
    for (const r of rx.requests) {
      expect(r.verified).toBe(true);
      expect(r.id).toBe(r.envelope.id);
      expect(r.envelope.id).toMatch(/^evt_/);
    }
    const received = rx.acknowledged[1]?.envelope;
    expect(received).toMatchObject({
      type: 'message.received',
      data: { text: 'Where is my order?', wa_id: '4917000000001' },
    });
    expect(received?.conversation_id).toBe(rx.acknowledged[0]?.envelope.conversation_id);
  });

  it('makes the commit that recorded an event durable before POSTing it', async () => {
    await subscribe();
    // The processor records events in commits that are not fsynced by themselves: a power loss
    // could take one back after its event went out, and the delivery, processed again, would
    // send the same change under new event ids. The barrier is written after that commit and before
    // the POST, at the time of the claim (store/transactions.ts makeDurable). The sender and the
    // responder are stopped: an fsynced commit of theirs after the processing commit covers it
    // already (then no barrier is needed, and none is written).
    await t.deps.outbound.responder.stop(Date.now() + 5000);
    await t.deps.outbound.sender.stop(Date.now() + 5000);
    t.clock.advance(60_000);
    const at = String(t.clock.now());
    const barrierAtPost: (string | undefined)[] = [];
    rx.answer = () => {
      barrierAtPost.push(
        rows<{ value: string }>(t, "select value from settings where key = 'durability.barrier'")[0]?.value,
      );
      return { status: 204 };
    };
    await customerWrites('4917000000009');
    await drain();
    expect(types(rx.acknowledged)).toEqual(['conversation.opened', 'message.received']);
    expect(barrierAtPost).toEqual([at, at]);
  });

  it('filters by type and agent', async () => {
    await subscribe({ types: ['message.received'] });
    await customerWrites('4917000000002');
    await drain();
    expect(types(rx.acknowledged)).toEqual(['message.received']);
  });

  it('receiver down, then up: every event arrives once, in order within each conversation', async () => {
    await subscribe();
    let up = false;
    rx.answer = () => (up ? { status: 200 } : { status: 503 });
    for (let i = 0; i < 3; i++) {
      await customerWrites('4917000000011', `a${i}`);
      await customerWrites('4917000000012', `b${i}`);
    }
    await drain();
    // Only each conversation's first event was tried: the rest wait behind it.
    expect(new Set(rx.requests.map((r) => r.envelope.conversation_id)).size).toBe(2);
    expect(rx.requests.map((r) => r.envelope.type)).toEqual(['conversation.opened', 'conversation.opened']);
    expect(rx.acknowledged).toHaveLength(0);
    for (let i = 0; i < 4; i++) {
      t.clock.advance(60 * 60_000);
      await drain();
    }
    up = true;
    for (let i = 0; i < 4; i++) {
      t.clock.advance(60 * 60_000);
      await drain();
    }
    const ids = rx.acknowledged.map((r) => r.envelope.id);
    expect(new Set(ids).size).toBe(ids.length);
    const events = rows<{ id: string; conversation_id: string; seq: number }>(
      t,
      'select id, conversation_id, seq from domain_events where internal = 0 order by seq',
    );
    expect(ids.sort()).toEqual(events.map((e) => e.id).sort());
    for (const conv of new Set(events.map((e) => e.conversation_id))) {
      const expected = events.filter((e) => e.conversation_id === conv).map((e) => e.id);
      expect(
        rx.acknowledged.filter((r) => r.envelope.conversation_id === conv).map((r) => r.envelope.id),
      ).toEqual(expected);
    }
    const sub = (await json(await t.request(BASE))).items[0];
    expect(sub.health).toMatchObject({ status: 'healthy', pending: 0, dead: 0 });
  });

  it('metrics count attempts by outcome and the age of the oldest undelivered event', async () => {
    await subscribe();
    let up = false;
    rx.answer = () => (up ? { status: 204 } : { status: 500 });
    const metric = async (name: string) => {
      const text = await (await t.request('/metrics', { token: t.tokens.standard })).text();
      const line = text.split('\n').find((l) => l.startsWith(name));
      return line === undefined ? undefined : Number(line.split(' ').at(-1));
    };
    await customerWrites('4917000000031');
    await drain();
    t.clock.advance(90_000);
    expect(await metric('nwa_events_oldest_undelivered_seconds')).toBeGreaterThanOrEqual(90);
    expect(await metric('nwa_event_deliveries_total{outcome="retry"')).toBeGreaterThanOrEqual(1);
    up = true;
    t.clock.advance(60 * 60_000);
    await drain();
    // One per acknowledged request (the scheduler may have added an event meanwhile: counted the same).
    expect(rx.acknowledged.length).toBeGreaterThanOrEqual(2);
    expect(await metric('nwa_event_deliveries_total{outcome="delivered"')).toBe(rx.acknowledged.length);
    expect(await metric('nwa_events_oldest_undelivered_seconds')).toBe(0);
  });

  it('housekeeping drops events and settled deliveries older than events.retention', async () => {
    await subscribe();
    await customerWrites('4917000000032');
    await drain();
    // The scheduler may add newer events meanwhile (idle close): only these two are followed.
    const first = rows<{ id: string; event_id: string }>(t, 'select id, event_id from event_deliveries');
    expect(first).toHaveLength(2);
    const list = (xs: string[]) => xs.map((x) => `'${x}'`).join(', ');
    const left = () => ({
      deliveries: rows(t, `select id from event_deliveries where id in (${list(first.map((d) => d.id))})`)
        .length,
      attempts: rows(
        t,
        `select id from event_delivery_attempts where delivery_id in (${list(first.map((d) => d.id))})`,
      ).length,
      events: rows(t, `select id from domain_events where id in (${list(first.map((d) => d.event_id))})`)
        .length,
    });
    t.clock.advance(7 * 24 * 60 * 60_000 - 60_000);
    await t.deps.outbound.scheduler.tick();
    expect(left()).toEqual({ deliveries: 2, attempts: 2, events: 2 });
    t.clock.advance(2 * 60_000);
    await t.deps.outbound.scheduler.tick();
    expect(left()).toEqual({ deliveries: 0, attempts: 0, events: 0 });
  });

  it('gives up after 24 h: dead, and replayable', async () => {
    const { id } = await subscribe();
    rx.answer = () => ({ status: 500 });
    await customerWrites('4917000000021');
    for (let i = 0; i < 30; i++) {
      t.clock.advance(60 * 60_000);
      await drain();
    }
    const dead = rows<{ state: string }>(t, 'select state from event_deliveries');
    expect(dead.map((d) => d.state)).toEqual(['dead', 'dead']);
    rx.answer = () => ({ status: 200 });
    const replay = await t.request(`${BASE}/${id}/replay`, { body: { since: '2026-01-01T00:00:00Z' } });
    expect(await json(replay)).toEqual({ queued: 2 });
    await drain();
    expect(types(rx.acknowledged)).toEqual(['conversation.opened', 'message.received']);
    const log = await json(await t.request(`${BASE}/${id}/deliveries?limit=2`));
    expect(log.items).toHaveLength(2);
    expect(log.items[0]).toMatchObject({ status_code: 200 });
    expect(log.next_cursor).not.toBeNull();
  });

  it('does not follow redirects: a 302 is a failed attempt and the target is never asked', async () => {
    const target = await startWebhookReceiver();
    try {
      await subscribe({ types: ['message.received'] });
      rx.answer = () => ({ status: 302, headers: { location: target.url } });
      await customerWrites('4917000000031');
      await drain();
      expect(rx.requests).toHaveLength(1);
      expect(target.requests).toHaveLength(0);
      expect(rows(t, 'select state, last_status from event_deliveries')).toEqual([
        { state: 'pending', last_status: 302 },
      ]);
    } finally {
      await target.close();
    }
  });

  it('410 disables the subscription and runtime.status_changed says so', async () => {
    const { id } = await subscribe({ types: ['message.received'] });
    rx.answer = () => ({ status: 410 });
    await customerWrites('4917000000041');
    await drain();
    const sub = await json(await t.request(`${BASE}/${id}`));
    expect(sub).toMatchObject({ enabled: false, health: { status: 'disabled' } });
    expect(sub.disabled_reason).toContain('410');
    const runtime = rows<{ data: string }>(
      t,
      "select data from domain_events where type = 'runtime.status_changed'",
    );
    expect(JSON.parse(runtime[0]?.data as string).reason).toContain(id);
  });

  it('a subscriber failing for 5 days is disabled; meanwhile the runtime names it', async () => {
    const { id } = await subscribe({ types: ['message.received'] });
    rx.answer = () => ({ status: 500 });
    await customerWrites('4917000000051');
    await drain();
    const insight = await json(await t.request('/api/extensions/native-whatsapp/runtime/insights'));
    expect(insight.status).toBe('degraded');
    expect(insight.status_reasons.join(' ')).toContain(id);
    for (let day = 0; day < 6; day++) {
      await customerWrites('4917000000051', `day ${day}`);
      for (let h = 0; h < 24; h += 2) {
        t.clock.advance(2 * 60 * 60_000);
        await drain();
      }
    }
    const sub = await json(await t.request(`${BASE}/${id}`));
    expect(sub.enabled).toBe(false);
    expect(sub.disabled_reason).toContain('no delivery succeeded');
  });

  it('after a rotation both secrets sign for 24 h, then only the new one', async () => {
    const { id, secret: old } = await subscribe({ types: ['message.received'] });
    const rot = await json(await t.request(`${BASE}/${id}/rotate-secret`, { method: 'POST' }));
    expect(rot.secret).not.toBe(old);
    rx.secrets = [rot.secret];
    await customerWrites('4917000000061');
    await drain();
    expect(rx.requests.at(-1)?.signature.split(' ')).toHaveLength(2);
    expect(rx.requests.at(-1)?.verified).toBe(true);
    rx.secrets = [old];
    await customerWrites('4917000000061', 'again');
    await drain();
    expect(rx.requests.at(-1)?.verified).toBe(true);
    t.clock.advance(24 * 60 * 60_000 + 1);
    await customerWrites('4917000000061', 'a day later');
    await drain();
    expect(rx.requests.at(-1)?.verified).toBe(false);
    expect(rx.requests.at(-1)?.signature.split(' ')).toHaveLength(1);
  });

  it('a hanging subscriber does not hold up another one', async () => {
    const slow = await startWebhookReceiver();
    try {
      const res = await t.request(BASE, { body: { url: slow.url, types: ['message.received'] } });
      expect(res.status).toBe(201);
      await subscribe({ types: ['message.received'] });
      slow.answer = () => 'hang';
      await customerWrites('4917000000071');
      // The fast one is served while the slow one's request is still open.
      const deadline = Date.now() + 5000;
      while (rx.acknowledged.length === 0 && Date.now() < deadline) {
        t.deps.events.delivery.wake();
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(types(rx.acknowledged)).toEqual(['message.received']);
      expect(slow.requests.length).toBeGreaterThanOrEqual(1);
    } finally {
      await slow.close();
    }
  });

  it('keeps its connections to a subscriber alive: 30 deliveries over at most `concurrency` of them', async () => {
    await subscribe({ types: ['message.received'] });
    for (let i = 0; i < 30; i++) await customerWrites(`49170000008${String(i).padStart(2, '0')}`);
    await drain();
    expect(types(rx.acknowledged)).toHaveLength(30);
    expect(rx.connections()).toBeLessThanOrEqual(t.deps.config().events.delivery.concurrency);
  });

  it('a subscriber answering 200 with a huge body is delivered, and the next delivery goes out', async () => {
    await subscribe({ types: ['message.received'] });
    rx.answer = () => ({ status: 200, body: 'x'.repeat(4 * 1024 * 1024) });
    await customerWrites('4917000000091');
    await drain();
    rx.answer = () => ({ status: 204 });
    await customerWrites('4917000000092');
    await drain();
    expect(rx.acknowledged.map((r) => r.envelope.data.wa_id)).toEqual(['4917000000091', '4917000000092']);
    // Ordered: PostgreSQL returns updated rows in no particular order.
    const rows = await t.deps.db
      .selectFrom('event_deliveries')
      .select(['state', 'last_status'])
      .orderBy('event_seq')
      .execute();
    expect(rows).toEqual([
      { state: 'delivered', last_status: 200 },
      { state: 'delivered', last_status: 204 },
    ]);
  });

  it('PATCH and DELETE change and remove it', async () => {
    const { id } = await subscribe();
    const patched = await t.request(`${BASE}/${id}`, {
      method: 'PATCH',
      body: { types: ['message.sent'], enabled: false },
    });
    expect(await json(patched)).toMatchObject({ types: ['message.sent'], enabled: false });
    const bad = await t.request(`${BASE}/${id}`, { method: 'PATCH', body: { url: 'https://a:b@x.example' } });
    expect(bad.status).toBe(400);
    expect((await t.request(`${BASE}/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await t.request(`${BASE}/${id}`)).status).toBe(404);
  });
});
