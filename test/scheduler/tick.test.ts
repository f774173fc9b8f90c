// The follow-up scheduler end to end: a business message makes the conversation pending and plans a
// follow-up; ticks driven on the fake clock claim it when due and hand it to the sender (a fake
// Cloud API over real HTTP counts what went out). Window, quiet hours, sequences, two instances, opt-out,
// attachment, 131047 re-plan, and the housekeeping on the tick.
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { followUpsRepo } from '../../src/store/follow-ups-repo.js';
import { withTransaction } from '../../src/store/transactions.js';
import { exec, one, rows } from '../inbox/db-view.js';
import { type Bench, customerConversation, enqueue, outbox, startBench } from '../outbound/harness.js';
import { insertDueFollowUps } from './due-follow-ups.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

let b: Bench;
afterEach(async () => {
  await b?.close();
});

const rule = (id: string, after: string, extra: Record<string, unknown> = {}) => ({
  id,
  after,
  text: `Still there? (${id})`,
  ...extra,
});

/** A customer wrote, the business answered (accepted by the fake API): the conversation is pending. */
async function answered(bench: Bench): Promise<{ id: string; contact_id: string }> {
  const conv = await customerConversation(bench.t);
  await enqueue(bench.t, { conversation_id: conv.id, contact_id: conv.contact_id });
  await bench.t.deps.outbound.sender.drain();
  return conv;
}

const followUps = (bench: Bench) =>
  rows<{ rule_id: string; state: string; due_at: number; skip_reason: string | null; silence_from: number }>(
    bench.t,
    'select * from follow_ups order by sequence, id',
  );

async function tickAndSend(bench: Bench) {
  const report = await bench.t.deps.outbound.scheduler.tick();
  await bench.t.deps.outbound.sender.drain();
  return report;
}

describe('follow-ups', () => {
  it('a business message plans the follow-up; it goes out once when due, never again', async () => {
    b = await startBench({ config: { follow_up_rules: [rule('nudge', '4h')] } });
    await answered(b);
    const [fu] = followUps(b);
    expect(fu).toMatchObject({ rule_id: 'nudge', state: 'scheduled', due_at: b.t.clock.now() + 4 * HOUR });

    b.t.clock.advance(4 * HOUR - 1000);
    expect((await tickAndSend(b)).claimed).toBe(0);
    expect(b.graph.requests).toHaveLength(1);

    b.t.clock.advance(1000);
    expect((await tickAndSend(b)).enqueued).toBe(1);
    expect(b.graph.requests).toHaveLength(2);
    expect(b.graph.requests[1]?.body).toMatchObject({ text: { body: 'Still there? (nudge)' } });
    expect(followUps(b)[0]).toMatchObject({ state: 'sent' });

    b.t.clock.advance(24 * HOUR);
    await tickAndSend(b);
    expect(b.graph.requests).toHaveLength(2);
  });

  it("a tick never takes another instance's live claims, and takes them over once their lease ran out", async () => {
    // Two daemons on one database (SPEC §10). The other instance, on its own connection, claims part
    // of the due follow-ups and crashes before deciding them. (Concurrent claims on two connections
    // are raced in test/store/claims.test.ts.)
    b = await startBench({ config: { follow_up_rules: [rule('nudge', '1h')] } });
    const conv = await answered(b);
    const t = b.t;
    const lease = t.deps.config().scheduler.lease;
    const now = t.clock.now();
    await insertDueFollowUps(t.deps.db, conv.id, now, 20);
    // Another connection to the same database, on whichever engine this pass runs.
    const second = openStore(t.deps.config().database);
    let crashed: string[];
    try {
      crashed = await followUpsRepo.claimDue(second.db, 'crashed-instance', now, now + lease, 5);
    } finally {
      await second.close();
    }
    expect(crashed).toHaveLength(5);
    const decided = (r: { enqueued: number; skipped: number; deferred: number; cancelled: number }) =>
      r.enqueued + r.skipped + r.deferred + r.cancelled;

    const first = await t.deps.outbound.scheduler.tick();
    expect([first.claimed, decided(first)]).toEqual([15, 15]);
    const heldByCrashed = () =>
      rows<{ id: string }>(
        t,
        "select id from follow_ups where lease_owner = 'crashed-instance' and state = 'claimed' order by id",
      ).map((r) => r.id);
    t.clock.advance(lease - 1);
    await t.deps.outbound.scheduler.tick();
    expect(heldByCrashed()).toEqual([...crashed].sort());
    t.clock.advance(1);
    const takeover = await t.deps.outbound.scheduler.tick();
    expect(heldByCrashed()).toEqual([]);
    expect(takeover.claimed).toBeGreaterThanOrEqual(5);
    // Decided: each handed to the outbox (claimed with its outbox row) or settled otherwise.
    const left = rows<{ state: string; outbox_id: string | null }>(
      t,
      `select state, outbox_id from follow_ups where id in (${crashed.map((id) => `'${id}'`).join(', ')})`,
    );
    expect(left.filter((r) => r.state === 'scheduled' || (r.state === 'claimed' && !r.outbox_id))).toEqual(
      [],
    );
    expect(
      rows(
        t,
        "select follow_up_id from outbox where kind = 'follow_up' group by follow_up_id having count(*) > 1",
      ),
    ).toEqual([]);
  });

  it('a sequence sends each rule once per silence, counted from the business message', async () => {
    b = await startBench({ config: { follow_up_rules: [rule('second', '3h'), rule('first', '1h')] } });
    await answered(b);
    const silence = b.t.clock.now();
    b.t.clock.advance(HOUR);
    await tickAndSend(b);
    expect(followUps(b).map((f) => [f.rule_id, f.state, f.due_at - silence])).toEqual([
      ['first', 'sent', HOUR],
      ['second', 'scheduled', 3 * HOUR],
    ]);
    b.t.clock.advance(2 * HOUR);
    await tickAndSend(b);
    expect(followUps(b).map((f) => f.state)).toEqual(['sent', 'sent']);
    expect(b.graph.requests).toHaveLength(3);
  });

  it('outside the 24 h window a text-only rule is skipped with its reason; a template rule sends the template', async () => {
    b = await startBench({
      config: {
        follow_up_rules: [
          rule('text-only', '25h'),
          rule('with-template', '26h', { template: { name: 'we_miss_you', language: 'en' } }),
        ],
      },
    });
    await answered(b);
    expect(followUps(b)).toMatchObject([
      { rule_id: 'text-only', state: 'skipped', skip_reason: 'window_closed_no_template' },
      { rule_id: 'with-template', state: 'scheduled' },
    ]);
    b.t.clock.advance(26 * HOUR);
    await tickAndSend(b);
    expect(b.graph.requests[1]?.body).toMatchObject({ type: 'template', template: { name: 'we_miss_you' } });
  });

  it('131047 on a text follow-up re-plans it as the rule template', async () => {
    b = await startBench({
      config: { follow_up_rules: [rule('nudge', '1h', { template: { name: 'nudge_tpl', language: 'en' } })] },
    });
    await answered(b);
    b.t.clock.advance(HOUR);
    b.graph.next({ error: 131047 });
    await tickAndSend(b);
    expect(b.graph.requests.map((r) => (r.body as { type: string }).type)).toEqual([
      'text',
      'text',
      'template',
    ]);
    expect(followUps(b)[0]).toMatchObject({ state: 'sent' });
    expect(outbox(b.t).map((r) => r.state)).toEqual(['sent', 'failed', 'sent']);
  });

  it('a follow-up due in quiet hours across midnight waits until they end (Europe/Berlin)', async () => {
    b = await startBench({
      start: '2026-01-05T19:30:00Z', // 20:30 in Berlin (UTC+1)
      config: {
        follow_up_rules: [rule('nudge', '2h')],
        quiet_hours: { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' },
      },
    });
    await answered(b);
    const end = Date.parse('2026-01-06T06:00:00Z'); // 07:00 in Berlin
    expect(followUps(b)[0]?.due_at).toBe(end);
    b.t.clock.set(end - MIN);
    expect((await tickAndSend(b)).claimed).toBe(0);
    b.t.clock.set(end);
    expect((await tickAndSend(b)).enqueued).toBe(1);
    expect(b.graph.requests).toHaveLength(2);
  });

  it('quiet hours configured after planning defer a due follow-up at tick time', async () => {
    b = await startBench({
      start: '2026-01-05T20:00:00Z',
      config: { follow_up_rules: [rule('nudge', '1h')] },
    });
    await answered(b);
    const cfg = (await (await b.t.request('/api/extensions/native-whatsapp/management/config')).json()) as {
      version: number;
    };
    const put = await b.t.request('/api/extensions/native-whatsapp/management/config', {
      method: 'PUT',
      body: { version: cfg.version, quiet_hours: { start: '21:00', end: '08:00', timezone: 'UTC' } },
    });
    expect(put.status).toBe(200);
    b.t.clock.advance(HOUR);
    expect((await tickAndSend(b)).deferred).toBe(1);
    expect(followUps(b)[0]).toMatchObject({ state: 'scheduled', due_at: Date.parse('2026-01-06T08:00:00Z') });
  });

  it('max_per_conversation caps a rule over the conversation’s silences', async () => {
    b = await startBench({ config: { follow_up_rules: [rule('nudge', '1h', { max_per_conversation: 1 })] } });
    const conv = await answered(b);
    b.t.clock.advance(HOUR);
    await tickAndSend(b);
    // A second silence: another business message.
    await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id, text: 'Anything else?' });
    await b.t.deps.outbound.sender.drain();
    expect(followUps(b).map((f) => [f.state, f.skip_reason])).toEqual([
      ['sent', null],
      ['skipped', 'max_reached'],
    ]);
  });

  it('nothing goes out automatically when the channel has no agent with an active attachment', async () => {
    b = await startBench({ agent: 'queued', config: { follow_up_rules: [rule('nudge', '1h')] } });
    await answered(b);
    b.t.clock.advance(HOUR);
    expect((await tickAndSend(b)).skipped).toBe(1);
    expect(followUps(b)[0]).toMatchObject({ state: 'skipped', skip_reason: 'extension_not_active' });
    expect(b.graph.requests).toHaveLength(1);
    // And a log line says so, with the conversation to follow.
    expect(b.t.logs().find((l) => l.event === 'follow_up.skipped')).toMatchObject({
      reason: 'extension_not_active',
      conversation_id: expect.any(String),
    });
  });

  it('an opted-out contact gets no follow-up', async () => {
    b = await startBench({ config: { follow_up_rules: [rule('nudge', '1h')] } });
    const conv = await answered(b);
    exec(b.t, 'update contacts set opted_out_at = 1 where id = ?', conv.contact_id);
    b.t.clock.advance(HOUR);
    await tickAndSend(b);
    expect(followUps(b)[0]).toMatchObject({ state: 'skipped', skip_reason: 'opted_out' });
    expect(b.graph.requests).toHaveLength(1);
  });
});

describe('housekeeping on the tick', () => {
  it('an open human-routed conversation unanswered past its SLA is escalated', async () => {
    b = await startBench({ config: { escalation: { sla: '15m' } } });
    const conv = await customerConversation(b.t);
    exec(b.t, "update conversations set assigned_route = 'human' where id = ?", conv.id);
    b.t.clock.set(Date.parse('2026-01-05T08:14:00Z'));
    expect((await b.t.deps.outbound.scheduler.tick()).escalated).toBe(0);
    b.t.clock.set(Date.parse('2026-01-05T08:15:00Z'));
    expect((await b.t.deps.outbound.scheduler.tick()).escalated).toBe(1);
    expect(one(b.t, 'select queue_state, escalation_reason from conversations')).toEqual({
      queue_state: 'escalated',
      escalation_reason: 'no reply within 15m',
    });
  });

  it('a pending conversation idle past close_after is closed; one with a follow-up still due is not', async () => {
    b = await startBench({ config: { conversations: { close_after: '72h' } } });
    await answered(b);
    b.t.clock.advance(72 * HOUR - 1000);
    expect((await b.t.deps.outbound.scheduler.tick()).closed).toBe(0);
    b.t.clock.advance(1000);
    expect((await b.t.deps.outbound.scheduler.tick()).closed).toBe(1);
    expect(one(b.t, 'select queue_state, closed_reason from conversations')).toEqual({
      queue_state: 'closed',
      closed_reason: 'idle',
    });
  });

  it('processed raw webhooks past retention are purged', async () => {
    b = await startBench({ config: { retention: { raw_webhooks: '30d' } } });
    await customerConversation(b.t);
    expect(rows(b.t, 'select id from inbox')).toHaveLength(1);
    b.t.clock.advance(30 * 24 * HOUR + 1000);
    expect((await b.t.deps.outbound.scheduler.tick()).purged).toBe(1);
    expect(rows(b.t, 'select id from inbox')).toHaveLength(0);
    await withTransaction(b.t.deps.db, async () => undefined);
  });
});

describe('paused runtime', () => {
  it('while the runtime is paused due follow-ups wait; they go out after the resume', async () => {
    b = await startBench({ config: { follow_up_rules: [rule('nudge', '1h')] } });
    await answered(b);
    const put = async (status: string) => {
      const cfg = (await (await b.t.request('/api/extensions/native-whatsapp/management/config')).json()) as {
        version: number;
      };
      const res = await b.t.request('/api/extensions/native-whatsapp/management/config', {
        method: 'PUT',
        body: { version: cfg.version, runtime: { status } },
      });
      expect(res.status).toBe(200);
    };
    await put('paused');
    b.t.clock.advance(HOUR);
    expect((await tickAndSend(b)).claimed).toBe(0);
    expect(followUps(b)[0]?.state).toBe('scheduled');
    await put('active');
    expect((await tickAndSend(b)).enqueued).toBe(1);
    expect(b.graph.requests).toHaveLength(2);
  });
});
