// POST .../management/recovery: each action does what it says, once, is audited, and is root only.
import { afterEach, describe, expect, it } from 'vitest';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { exec, failInsertOfText, one, rows } from '../inbox/db-view.js';
import { type Bench, customerConversation, enqueue, outboxRow, startBench } from '../outbound/harness.js';
import { deliver, deliveryOf, messagesChange, signed } from '../webhook/deliveries.js';

const PATH = '/api/extensions/native-whatsapp/management/recovery';
const T0 = 1767600000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
});

async function app(config: Record<string, unknown> = {}): Promise<TestApp> {
  const t = await createTestApp({ config });
  cleanups.push(() => t.close());
  return t;
}

async function bench(config: Record<string, unknown> = {}): Promise<Bench> {
  const b = await startBench({ config });
  cleanups.push(() => b.close());
  return b;
}

const text = (from: string, body: string, ts = T0) =>
  signed(deliveryOf([messagesChange([{ wa_id: from }], [{ from, timestamp: ts, body }])]));

const failOn = failInsertOfText;

const recover = (t: TestApp, body: unknown, token?: string | null) =>
  t.request(PATH, { method: 'POST', body, ...(token === undefined ? {} : { token }) });

// The domain's own entries; the API router adds one `api.<method> <path>` entry per root request
// (test/bounds/root-audit.test.ts), left out here.
const auditActions = (t: TestApp) =>
  rows<{ action: string; details: string }>(
    t,
    "select action, details from audit_log where action not like 'api.%' order by at, id",
  );

describe('replay_dead_letters', () => {
  it('puts dead deliveries back and they are processed once', async () => {
    const t = await app({ inbox: { max_attempts: 1 } });
    const heal = failOn(t, 'boom');
    await deliver(t, text('4917000000301', 'boom'));
    expect(one(t, 'select state from inbox')).toEqual({ state: 'dead' });
    heal();
    const res = await recover(t, { action: 'replay_dead_letters' });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      action: 'replay_dead_letters',
      counts: { replayed: 1 },
      runtime_status: 'active',
    });
    await t.deps.inbox.processor.drain();
    expect(rows(t, "select text from messages where direction = 'inbound'")).toEqual([{ text: 'boom' }]);
    expect(auditActions(t).map((a) => a.action)).toContain('recovery.replay_dead_letters');
  });

  it('with ids replays only those', async () => {
    const t = await app({ inbox: { max_attempts: 1 } });
    failOn(t, 'boom');
    await deliver(t, text('4917000000302', 'boom'), text('4917000000303', 'boom'));
    const ids = rows<{ id: string }>(t, 'select id from inbox order by id').map((r) => r.id);
    const res = await recover(t, { action: 'replay_dead_letters', ids: [ids[1]] });
    expect((await json(res)).counts).toEqual({ replayed: 1 });
    expect(rows(t, 'select state from inbox order by id')).toEqual([{ state: 'dead' }, { state: 'pending' }]);
  });
});

describe('reprocess_inbox_since', () => {
  it('processes deliveries again without repeating their effects', async () => {
    const t = await app();
    await deliver(t, text('4917000000304', 'hello', T0), text('4917000000304', 'again', T0 + 5));
    const before = one(t, 'select turns_total, unanswered_count, queue_state from conversations');
    const res = await recover(t, { action: 'reprocess_inbox_since', since: '2026-01-01T00:00:00Z' });
    expect(res.status).toBe(200);
    expect((await json(res)).counts).toEqual({ requeued: 2 });
    await t.deps.inbox.processor.drain();
    expect(rows(t, 'select state from inbox')).toEqual([{ state: 'processed' }, { state: 'processed' }]);
    expect(one(t, 'select count(*) as n from messages')).toEqual({ n: 2 });
    expect(one(t, 'select count(*) as n from conversations')).toEqual({ n: 1 });
    expect(one(t, 'select turns_total, unanswered_count, queue_state from conversations')).toEqual(before);
  });

  it('leaves deliveries received before `since` alone', async () => {
    const t = await app();
    await deliver(t, text('4917000000305', 'hello'));
    const res = await recover(t, { action: 'reprocess_inbox_since', since: '2026-01-05T09:00:00Z' });
    expect(res.status).toBe(400); // in the future of the fake clock (08:00)
    t.clock.advance(2 * 60 * 60_000);
    const later = await recover(t, { action: 'reprocess_inbox_since', since: '2026-01-05T09:00:00Z' });
    expect((await json(later)).counts).toEqual({ requeued: 0 });
  });

  it('without since is refused with the field named', async () => {
    const t = await app();
    const res = await recover(t, { action: 'reprocess_inbox_since' });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({
      code: 'validation_failed',
      details: [{ path: 'since' }],
    });
    expect(auditActions(t)).toEqual([]);
  });
});

describe('retry_failed_sends', () => {
  it('queues a failed send again and it goes out', async () => {
    const b = await bench();
    b.graph.next({ error: 131026 });
    const conv = await customerConversation(b.t);
    const id = await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id });
    await b.t.deps.outbound.sender.drain();
    expect(outboxRow(b.t, id)).toMatchObject({ state: 'failed', error_code: 131026 });
    const res = await recover(b.t, { action: 'retry_failed_sends' });
    expect(await json(res)).toMatchObject({
      counts: { requeued: 1, skipped_opted_out: 0, skipped_superseded: 0 },
    });
    await b.t.deps.outbound.sender.drain();
    expect(outboxRow(b.t, id)).toMatchObject({ state: 'sent', attempts: 1 });
    expect(b.graph.requests).toHaveLength(2);
    expect(auditActions(b.t).map((a) => a.action)).toContain('recovery.retry_failed_sends');
  });

  it('does not send an automated message again to a contact who opted out', async () => {
    const b = await bench();
    b.graph.next({ error: 131026 });
    const conv = await customerConversation(b.t);
    const id = await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id, kind: 'reply' });
    await b.t.deps.outbound.sender.drain();
    exec(b.t, 'update contacts set opted_out_at = 1');
    const res = await recover(b.t, { action: 'retry_failed_sends' });
    expect((await json(res)).counts).toEqual({ requeued: 0, skipped_opted_out: 1, skipped_superseded: 0 });
    expect(outboxRow(b.t, id).state).toBe('failed');
  });
});

describe('pause_runtime and resume_runtime', () => {
  it('pausing stops sending, shows in the config, and resuming sends what waited', async () => {
    const b = await bench();
    const paused = await recover(b.t, { action: 'pause_runtime' });
    expect(await json(paused)).toEqual({
      action: 'pause_runtime',
      counts: { changed: 1 },
      runtime_status: 'paused',
    });
    const config = await json(await b.t.request('/api/extensions/native-whatsapp/management/config'));
    expect(config.runtime.status).toBe('paused');
    expect(config.version).toBe(1);

    const id = await enqueue(b.t, {});
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests).toHaveLength(0);
    expect(outboxRow(b.t, id).state).toBe('queued');

    const resumed = await recover(b.t, { action: 'resume_runtime' });
    expect((await json(resumed)).runtime_status).toBe('active');
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests).toHaveLength(1);
    expect(outboxRow(b.t, id).state).toBe('sent');
    expect(auditActions(b.t).map((a) => a.action)).toEqual([
      'recovery.pause_runtime',
      'recovery.resume_runtime',
    ]);
  });

  it('pausing twice changes nothing the second time but is still audited', async () => {
    const t = await app();
    await recover(t, { action: 'pause_runtime' });
    const again = await recover(t, { action: 'pause_runtime' });
    expect((await json(again)).counts).toEqual({ changed: 0 });
    expect(t.deps.configStore.version()).toBe(1);
    expect(auditActions(t).map((a) => a.action)).toEqual([
      'recovery.pause_runtime',
      'recovery.pause_runtime',
    ]);
  });
});

describe('errors and tiers', () => {
  it('a standard token gets 403 and nothing happens', async () => {
    const t = await app();
    const res = await recover(t, { action: 'pause_runtime' }, t.tokens.standard);
    expect(res.status).toBe(403);
    expect(t.deps.config().runtime.status).toBe('active');
    expect(auditActions(t)).toEqual([]);
  });

  it('no token gets 401', async () => {
    const t = await app();
    expect((await recover(t, { action: 'pause_runtime' }, null)).status).toBe(401);
  });

  it('an unknown action or unknown field is a 400 naming it', async () => {
    const t = await app();
    const bad = await recover(t, { action: 'reboot' });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.details[0].path).toBe('action');
    const extra = await recover(t, { action: 'pause_runtime', force: true });
    expect(extra.status).toBe(400);
    expect((await json(extra)).error.details[0].path).toBe('force');
  });
});
