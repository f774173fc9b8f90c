// The sender against a fake Cloud API (real HTTP): each error class, retry timing on the fake clock,
// auth stopping the channel until credentials change, and what an accepted send records.
import { afterEach, describe, expect, it } from 'vitest';
import { one, rows } from '../inbox/db-view.js';
import { ACCESS_TOKEN, type Bench, customerConversation, enqueue, outboxRow, startBench } from './harness.js';

let b: Bench;
afterEach(async () => {
  await b?.close();
});

describe('accepted sends', () => {
  it('an accepted send stores the wamid, an outbound message and moves the conversation to pending', async () => {
    b = await startBench();
    const conv = await customerConversation(b.t);
    const id = await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id, kind: 'manual' });
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests).toHaveLength(1);
    expect(b.graph.requests[0]?.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    const row = outboxRow(b.t, id);
    expect(row).toMatchObject({ state: 'sent', attempts: 1, wamid: 'wamid.FAKE00000001' });
    const msg = one(b.t, "select * from messages where direction = 'outbound'");
    expect(msg).toMatchObject({ wamid: 'wamid.FAKE00000001', status: 'sent', conversation_id: conv.id });
    expect(one(b.t, 'select queue_state, pending_outbound, unanswered_count from conversations')).toEqual({
      queue_state: 'pending',
      pending_outbound: 0,
      unanswered_count: 0,
    });
  });
});

describe('drain', () => {
  it('waits for a send in flight even when its queue is paused meanwhile', async () => {
    b = await startBench();
    // Slow enough that the pause below surely lands while the call is out.
    b.graph.next({ accept: true, delayMs: 400 });
    const id = await enqueue(b.t, {});
    b.t.deps.outbound.sender.wake();
    const deadline = Date.now() + 10_000;
    while (b.graph.requests.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(outboxRow(b.t, id).state).toBe('sending');
    // A read-only store pauses every queue; the send already out still settles.
    b.t.deps.outbound.sender.storeWritable(false);
    await b.t.deps.outbound.sender.drain();
    expect(outboxRow(b.t, id)).toMatchObject({ state: 'sent', wamid: 'wamid.FAKE00000001' });
  });
});

describe('failures', () => {
  it('a retryable error retries after the backoff on the fake clock, then succeeds', async () => {
    b = await startBench({ config: { outbound: { retry_base_delay: '2s' } } });
    b.graph.next({ error: 130429 });
    const id = await enqueue(b.t, {});
    await b.t.deps.outbound.sender.drain();
    const first = outboxRow(b.t, id);
    expect(first).toMatchObject({ state: 'queued', attempts: 1, error_code: 130429 });
    const delay = first.next_attempt_at - b.t.clock.now();
    expect(delay).toBeGreaterThanOrEqual(2000);
    expect(delay).toBeLessThanOrEqual(4000);
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests).toHaveLength(1); // not due yet
    b.t.clock.advance(delay);
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests).toHaveLength(2);
    expect(outboxRow(b.t, id)).toMatchObject({ state: 'sent', attempts: 2 });
  });

  it('a retryable error becomes dead after max_attempts', async () => {
    b = await startBench({ config: { outbound: { max_attempts: 3 } } });
    b.graph.setDefault({ error: 131000 });
    const id = await enqueue(b.t, {});
    for (let i = 0; i < 3; i++) {
      await b.t.deps.outbound.sender.drain();
      b.t.clock.advance(60 * 60_000);
    }
    expect(b.graph.requests).toHaveLength(3);
    expect(outboxRow(b.t, id)).toMatchObject({ state: 'dead', attempts: 3, error_code: 131000 });
  });

  it('a network drop is retryable', async () => {
    b = await startBench();
    b.graph.next({ drop: true });
    const id = await enqueue(b.t, {});
    await b.t.deps.outbound.sender.drain();
    expect(outboxRow(b.t, id)).toMatchObject({ state: 'queued', attempts: 1, error_code: null });
  });

  it('a permanent error fails the row with its code and escalates the conversation', async () => {
    b = await startBench();
    const conv = await customerConversation(b.t);
    b.graph.next({ error: 131026 });
    const id = await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id });
    await b.t.deps.outbound.sender.drain();
    expect(outboxRow(b.t, id)).toMatchObject({ state: 'failed', attempts: 1, error_code: 131026 });
    expect(
      one(b.t, 'select queue_state, assigned_route, escalation_reason from conversations'),
    ).toMatchObject({
      queue_state: 'escalated',
      assigned_route: 'human',
    });
  });

  it('an auth error stops the channel, degrades the runtime, and sending resumes after new credentials', async () => {
    b = await startBench();
    b.graph.requireToken('EAAnew_token_0123456789abcdef');
    const id = await enqueue(b.t, {});
    const other = await enqueue(b.t, { to: { wa_id: '4917000000002' } });
    await b.t.deps.outbound.sender.drain();
    expect(outboxRow(b.t, id).state).toBe('queued');
    expect(outboxRow(b.t, other).state).toBe('queued');
    expect(b.t.deps.runtime.view()).toMatchObject({ status: 'degraded' });
    const before = b.graph.requests.length;
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests.length).toBe(before); // nothing more goes out while stopped

    const cfg = await b.t.request('/api/extensions/native-whatsapp/management/config');
    const { version } = (await cfg.json()) as { version: number };
    const put = await b.t.request('/api/extensions/native-whatsapp/management/config', {
      method: 'PUT',
      body: { version, channels: { access_token: 'EAAnew_token_0123456789abcdef' } },
    });
    expect(put.status).toBe(200);
    await b.t.deps.outbound.sender.drain();
    expect(outboxRow(b.t, id).state).toBe('sent');
    expect(outboxRow(b.t, other).state).toBe('sent');
    expect(b.t.deps.runtime.view().status).toBe('active');
    expect(rows(b.t, "select id from outbox where state = 'sent'")).toHaveLength(2);
  });
});

describe('sandbox transport', () => {
  it('without an access token sends go to the sandbox, whose statuses reach the message like webhook statuses', async () => {
    const { createTestApp } = await import('../helpers/test-app.js');
    const t = await createTestApp();
    try {
      expect(t.deps.outbound.sender.transport().name).toBe('sandbox');
      const id = await enqueue(t, {});
      await t.deps.outbound.sender.drain();
      const row = outboxRow(t, id);
      expect(row.state).toBe('sent');
      expect(row.wamid).toMatch(/^wamid\.sandbox\./);
      const deadline = Date.now() + 5000;
      let status = '';
      while (Date.now() < deadline) {
        status = one<{ status: string }>(t, 'select status from messages where wamid = ?', row.wamid).status;
        if (status === 'delivered') break;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(status).toBe('delivered');
      expect(rows(t, 'select status from status_events where wamid = ? order by status', row.wamid)).toEqual([
        { status: 'delivered' },
        { status: 'sent' },
      ]);
    } finally {
      await t.close();
    }
  });
});

describe('each answer of the Cloud API', () => {
  const cases: {
    name: string;
    step: Parameters<Bench['graph']['next']>[0];
    state: string;
    code: number | null;
  }[] = [
    {
      name: 'HTTP 500 without a Graph body is retried',
      step: { raw: { status: 500, body: 'oops' } },
      state: 'queued',
      code: null,
    },
    { name: 'throughput limit 130429 is retried', step: { error: 130429 }, state: 'queued', code: 130429 },
    { name: 'pair rate limit 131056 is retried', step: { error: 131056 }, state: 'queued', code: 131056 },
    { name: 'app rate limit 4 is retried', step: { error: 4 }, state: 'queued', code: 4 },
    { name: 'WABA rate limit 80007 is retried', step: { error: 80007 }, state: 'queued', code: 80007 },
    {
      name: 'a slow answer past the timeout is retried',
      step: { accept: true, delayMs: 1500 },
      state: 'queued',
      code: null,
    },
    { name: 'invalid parameter 100 fails', step: { error: 100 }, state: 'failed', code: 100 },
    { name: 'template error 132001 fails', step: { error: 132001 }, state: 'failed', code: 132001 },
    { name: 'unsupported type 131051 fails', step: { error: 131051 }, state: 'failed', code: 131051 },
    {
      name: '131047 on a message that is not a follow-up fails',
      step: { error: 131047 },
      state: 'failed',
      code: 131047,
    },
    {
      name: 'account locked 131031 stops the channel, the row stays queued',
      step: { error: 131031 },
      state: 'queued',
      code: 131031,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      b = await startBench({ config: { channels: { request_timeout: '1s' } } });
      b.graph.next(c.step);
      const id = await enqueue(b.t, {});
      await b.t.deps.outbound.sender.drain();
      expect(outboxRow(b.t, id)).toMatchObject({ state: c.state, error_code: c.code });
    });
  }
});
