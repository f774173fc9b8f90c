// The conversation engine wired into the daemon, black box: signed webhooks in, then the stored
// conversation, its transitions, follow-ups, drafts and sends. Each run ends in one of the states.
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/daemon-process.js';
import { type FakeLlm, startFakeLlm } from '../helpers/fake-llm.js';
import { one, rows } from '../inbox/db-view.js';
import { type Bench, customerConversation, enqueue, outbox, startBench } from '../outbound/harness.js';
import { deliver, deliveryOf, fixture, messagesChange, signed } from '../webhook/deliveries.js';

const HOUR = 3_600_000;
const BASE = '/api/extensions/native-whatsapp/runtime/conversations';

let b: Bench;
let llm: FakeLlm | undefined;
afterEach(async () => {
  await b?.close();
  await llm?.close();
  llm = undefined;
});

interface Detail {
  queue_state: string;
  assigned_route: string;
  conversation_class: string;
  escalation_reason: string | null;
  closed_reason: string | null;
  agent_uuid: string | null;
  transitions: { from: string | null; to: string; reason: string; actor: string }[];
  follow_ups: { rule_id: string; state: string; skip_reason: string | null }[];
  drafts: { text: string; state: string }[];
}

async function detail(bench: Bench, id?: string): Promise<Detail> {
  const cid = id ?? one<{ id: string }>(bench.t, 'select id from conversations order by id desc limit 1').id;
  const res = await bench.t.request(`${BASE}/${cid}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Detail;
}

/** A text from a customer at the fake clock's now. */
function say(from: string, body: string, at = Date.now()) {
  return signed(
    deliveryOf([messagesChange([{ wa_id: from }], [{ from, timestamp: Math.floor(at / 1000), body }])]),
  );
}

describe('ends in open', () => {
  it('a first message opens a conversation owned by the channel agent, classified, routed by automation_mode', async () => {
    b = await startBench();
    await deliver(b.t, fixture('msg_text_plain.json'));
    const d = await detail(b);
    expect(d).toMatchObject({ queue_state: 'open', assigned_route: 'hybrid', conversation_class: 'general' });
    expect(d.agent_uuid).not.toBeNull();
    expect(d.transitions).toEqual([
      expect.objectContaining({ from: null, to: 'open', reason: 'new_conversation', actor: 'customer' }),
    ]);
  });

  it('a class matched by keyword picks route and priority on the first message', async () => {
    b = await startBench({
      config: {
        conversation_classes: [
          { name: 'sales', match: { keywords: ['price', 'preço'] }, route: 'human', priority: 'high' },
        ],
      },
    });
    await deliver(b.t, say('4917000000901', 'What is the price of the blue one?', b.t.clock.now()));
    expect(one(b.t, 'select conversation_class, assigned_route, priority from conversations')).toEqual({
      conversation_class: 'sales',
      assigned_route: 'human',
      priority: 'high',
    });
  });

  it('score: intent and sentiment are stored on the conversation', async () => {
    b = await startBench();
    await deliver(b.t, fixture('lang_es_neutral.json'));
    const c = one<{ intent: string | null; sentiment: number | null }>(
      b.t,
      'select intent, sentiment from conversations',
    );
    expect(c.intent).toBe('question');
    expect(typeof c.sentiment).toBe('number');
  });
});

describe('ends in pending', () => {
  it('an accepted business message moves open → pending', async () => {
    b = await startBench();
    const conv = await customerConversation(b.t);
    await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id });
    await b.t.deps.outbound.sender.drain();
    const d = await detail(b, conv.id);
    expect(d.queue_state).toBe('pending');
    expect(d.transitions.at(-1)).toMatchObject({
      from: 'open',
      to: 'pending',
      reason: 'business_message',
      actor: 'manual',
    });
  });

  it('route ai: the rules responder answers and the reply goes out through the outbox', async () => {
    b = await startBench({
      config: {
        runtime: { automation_mode: 'autonomous' },
        responder: { rules: [{ id: 'hours', keywords: ['abren'], reply: 'Abrimos a las 9.' }] },
      },
    });
    await deliver(b.t, fixture('lang_es_neutral.json'));
    await b.t.deps.outbound.responder.drain();
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests.map((r) => r.body)).toEqual([
      expect.objectContaining({
        to: '34600000006',
        text: { body: 'Abrimos a las 9.' },
        context: expect.any(Object),
      }),
    ]);
    expect((await detail(b)).queue_state).toBe('pending');
    expect(outbox(b.t)).toMatchObject([{ kind: 'reply', state: 'sent' }]);
  });

  it('route ai: the reply goes out on its own once the delivery is processed (no manual draining)', async () => {
    b = await startBench({
      config: {
        runtime: { automation_mode: 'autonomous' },
        responder: { rules: [{ id: 'hours', keywords: ['abren'], reply: 'Abrimos a las 9.' }] },
      },
    });
    await deliver(b.t, fixture('lang_es_neutral.json'));
    const bench = b;
    await waitFor(() => bench.graph.requests.length === 1, 10_000);
    expect(b.graph.requests[0]?.body).toMatchObject({ text: { body: 'Abrimos a las 9.' } });
  });

  it('route ai: three lines written at once get one reply; a line written after the reply was queued gets its own', async () => {
    b = await startBench({
      config: {
        runtime: { automation_mode: 'autonomous' },
        // Not the escalation after unanswered messages: the test is about the replies.
        escalation: { unanswered_messages: null, sentiment_threshold: null },
        responder: { rules: [{ id: 'hours', keywords: ['abren'], reply: 'Abrimos a las 9.' }] },
      },
    });
    const from = '34600000077';
    const at = Math.floor(b.t.clock.now() / 1000);
    // One delivery, three messages: three responder jobs made in one slice, before any reply.
    await deliver(
      b.t,
      signed(
        deliveryOf([
          messagesChange(
            [{ wa_id: from }],
            ['hola', '¿a qué hora abren?', '¿abren el domingo?'].map((body, i) => ({
              from,
              timestamp: at + i,
              body,
            })),
          ),
        ]),
      ),
    );
    await b.t.deps.outbound.responder.drain();
    expect(
      rows<{ outcome: string }>(b.t, 'select outcome from responder_jobs order by id').map((r) => r.outcome),
    ).toEqual([
      'replied (rules)',
      'skipped: already answered (a reply is on its way)',
      'skipped: already answered (a reply is on its way)',
    ]);
    // The reply is queued, not yet sent (the count of unanswered messages has not dropped): a new
    // line now is newer than the reply and gets its own.
    await deliver(b.t, say(from, '¿y abren los festivos?', (at + 10) * 1000));
    await b.t.deps.outbound.responder.drain();
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests.map((r) => (r.body as { text?: { body: string } }).text?.body)).toEqual([
      'Abrimos a las 9.',
      'Abrimos a las 9.',
    ]);
  });

  it('route ai without an active attachment sends nothing', async () => {
    b = await startBench({
      agent: 'queued',
      config: {
        runtime: { automation_mode: 'autonomous' },
        responder: { rules: [{ keywords: ['abren'], reply: 'Abrimos a las 9.' }] },
      },
    });
    await deliver(b.t, fixture('lang_es_neutral.json'));
    await b.t.deps.outbound.responder.drain();
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests).toHaveLength(0);
    // The reason names what to do about it, here and in the conversation detail.
    expect(one<{ outcome: string }>(b.t, 'select outcome from responder_jobs').outcome).toMatch(
      /^skipped: native-whatsapp is queued on agent \d+, not active: POST \/api\/agents\/\d+\/extensions\/\d+\/activate$/,
    );
    const id = one<{ id: string }>(b.t, 'select id from conversations').id;
    const res = await b.t.request(`/api/extensions/native-whatsapp/runtime/conversations/${id}`);
    const detail = (await res.json()) as { auto_replies: unknown[] };
    expect(detail.auto_replies).toEqual([
      expect.objectContaining({
        mode: 'reply',
        state: 'done',
        outcome: expect.stringMatching(/is queued on agent/),
      }),
    ]);
    expect(b.t.logs().find((l) => l.event === 'responder.skipped')).toMatchObject({
      outcome: expect.stringMatching(/is queued on agent/),
    });
  });

  it('route hybrid: the responder writes a draft for a human instead of sending', async () => {
    b = await startBench({
      config: { responder: { rules: [{ keywords: ['abren'], reply: 'Abrimos a las 9.' }] } },
    });
    await deliver(b.t, fixture('lang_es_neutral.json'));
    await b.t.deps.outbound.responder.drain();
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests).toHaveLength(0);
    const d = await detail(b);
    expect(d).toMatchObject({ queue_state: 'open', assigned_route: 'hybrid' });
    expect(d.drafts).toMatchObject([{ text: 'Abrimos a las 9.', state: 'pending' }]);
  });
});

describe('ends in escalated', () => {
  it('an escalation keyword (Spanish) escalates to human with the reason', async () => {
    b = await startBench();
    await deliver(b.t, fixture('lang_es_complaint_human.json'));
    const d = await detail(b);
    expect(d).toMatchObject({ queue_state: 'escalated', assigned_route: 'human' });
    expect(d.escalation_reason).toMatch(/keyword|sentiment/);
  });

  it('three customer messages without a reply escalate', async () => {
    b = await startBench({ config: { escalation: { sentiment_threshold: null } } });
    await deliver(b.t, fixture('batch_one_contact_three_messages.json'));
    expect(await detail(b)).toMatchObject({
      queue_state: 'escalated',
      escalation_reason: '3 customer messages without a reply',
    });
  });

  it('escalation cancels a scheduled follow-up', async () => {
    b = await startBench({ config: { follow_up_rules: [{ id: 'nudge', after: '4h', text: 'Hi?' }] } });
    const conv = await customerConversation(b.t);
    await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id });
    await b.t.deps.outbound.sender.drain();
    b.t.clock.advance(HOUR);
    await deliver(b.t, say('4917000000001', 'I want a refund', b.t.clock.now()));
    const d = await detail(b, conv.id);
    expect(d.queue_state).toBe('escalated');
    // The reply itself already cancels the silence's follow-ups; escalation keeps them cancelled.
    expect(d.follow_ups).toMatchObject([{ rule_id: 'nudge', state: 'cancelled' }]);
  });
});

describe('ends in closed', () => {
  it('STOP opts out, closes with reason opt_out, cancels follow-ups and queued sends; START opts back in', async () => {
    b = await startBench({ config: { follow_up_rules: [{ id: 'nudge', after: '4h', text: 'Hi?' }] } });
    b.t.clock.set(1767611000_000);
    await deliver(b.t, say('5511900000008', 'hello', b.t.clock.now()));
    const conv = one<{ id: string; contact_id: string }>(b.t, 'select id, contact_id from conversations');
    await enqueue(b.t, {
      conversation_id: conv.id,
      contact_id: conv.contact_id,
      to: { wa_id: '5511900000008' },
    });
    await b.t.deps.outbound.sender.drain();
    const queued = await enqueue(b.t, {
      kind: 'campaign',
      contact_id: conv.contact_id,
      to: { wa_id: '5511900000008' },
    });

    b.t.clock.set(1767612000_000);
    await deliver(b.t, fixture('optout_text_stop.json'));
    const d = await detail(b, conv.id);
    expect(d).toMatchObject({ queue_state: 'closed', closed_reason: 'opt_out' });
    expect(d.follow_ups).toMatchObject([{ state: 'cancelled' }]);
    expect(outbox(b.t).find((r) => r.id === queued)?.state).toBe('cancelled');
    expect(
      one<{ opted_out_at: number | null }>(b.t, 'select opted_out_at from contacts').opted_out_at,
    ).not.toBeNull();

    b.t.clock.set(1767613200_000);
    await deliver(b.t, fixture('optout_text_start.json'));
    const c = one<{ opted_out_at: number | null; opted_in_at: number | null }>(b.t, 'select * from contacts');
    expect(c.opted_out_at).toBeNull();
    expect(c.opted_in_at).toBe(1767613200_000);
  });

  it('a message within reopen_within reopens the closed conversation; later starts a new one', async () => {
    b = await startBench({ config: { conversations: { close_after: '72h', reopen_within: '24h' } } });
    const conv = await customerConversation(b.t);
    await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id });
    await b.t.deps.outbound.sender.drain();
    b.t.clock.advance(72 * HOUR);
    await b.t.deps.outbound.scheduler.tick();
    expect((await detail(b, conv.id)).queue_state).toBe('closed');

    b.t.clock.advance(HOUR);
    await deliver(b.t, say('4917000000001', 'me again', b.t.clock.now()));
    const reopened = await detail(b, conv.id);
    expect(reopened.queue_state).toBe('open');
    expect(reopened.transitions.at(-1)).toMatchObject({ from: 'closed', to: 'open', reason: 'reopened' });

    await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id });
    await b.t.deps.outbound.sender.drain();
    b.t.clock.advance(72 * HOUR);
    await b.t.deps.outbound.scheduler.tick();
    b.t.clock.advance(25 * HOUR);
    await deliver(b.t, say('4917000000001', 'new topic', b.t.clock.now()));
    expect(rows(b.t, 'select id from conversations')).toHaveLength(2);
  });
});

describe('late deliveries', () => {
  it('a customer message written before the business reply but delivered after it changes no state', async () => {
    b = await startBench({ config: { follow_up_rules: [{ id: 'nudge', after: '4h', text: 'Hi?' }] } });
    const conv = await customerConversation(b.t);
    b.t.clock.advance(10 * 60_000);
    await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id });
    await b.t.deps.outbound.sender.drain();
    // Written at 08:05, before the 08:10 reply, delivered only now.
    await deliver(b.t, say('4917000000001', 'also, the colour?', Date.parse('2026-01-05T08:05:00Z')));
    const d = await detail(b, conv.id);
    expect(d.queue_state).toBe('pending');
    expect(d.follow_ups).toMatchObject([{ state: 'scheduled' }]);
    expect(one(b.t, 'select unanswered_count, turns_total from conversations')).toEqual({
      unanswered_count: 0,
      turns_total: 1,
    });
  });
});

describe('follow-ups and customer replies', () => {
  it('a customer reply cancels the pending follow-up and the conversation is open again', async () => {
    b = await startBench({ config: { follow_up_rules: [{ id: 'nudge', after: '4h', text: 'Hi?' }] } });
    const conv = await customerConversation(b.t);
    await enqueue(b.t, { conversation_id: conv.id, contact_id: conv.contact_id });
    await b.t.deps.outbound.sender.drain();
    b.t.clock.advance(HOUR);
    await deliver(b.t, say('4917000000001', 'thanks, one more question', b.t.clock.now()));
    const d = await detail(b, conv.id);
    expect(d.queue_state).toBe('open');
    expect(d.follow_ups).toMatchObject([{ state: 'cancelled', skip_reason: 'customer replied' }]);
    b.t.clock.advance(4 * HOUR);
    await b.t.deps.outbound.scheduler.tick();
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests).toHaveLength(1);
  });
});

describe('openai-compatible responder', () => {
  it('while the provider fails the runtime is degraded and the rules fallback answers; it recovers', async () => {
    llm = await startFakeLlm();
    llm.respond({ status: 500, body: 'boom' });
    b = await startBench({
      config: {
        runtime: { automation_mode: 'autonomous' },
        responder: {
          kind: 'openai-compatible',
          openai: { base_url: llm.baseUrl, model: 'test-model', timeout: '2s' },
          rules: [{ keywords: ['abren'], reply: 'Abrimos a las 9.' }],
        },
      },
    });
    await deliver(b.t, fixture('lang_es_neutral.json'));
    await b.t.deps.outbound.responder.drain();
    expect(b.t.deps.runtime.view().status).toBe('degraded');
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests[0]?.body).toMatchObject({ text: { body: 'Abrimos a las 9.' } });

    llm.respond({ reply: 'Abrimos a las nueve, ¡hasta mañana!' });
    b.t.clock.advance(HOUR);
    await deliver(b.t, say('34600000006', '¿y el sábado?', b.t.clock.now()));
    await b.t.deps.outbound.responder.drain();
    expect(b.t.deps.runtime.view().status).toBe('active');
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests[1]?.body).toMatchObject({
      text: { body: 'Abrimos a las nueve, ¡hasta mañana!' },
    });
  });
});
