// Drafts API (SPEC §13): a hybrid conversation's responder drafts are listed, approved (their text or
// an edit goes out as a manual reply through the outbox), discarded, and superseded when the customer
// writes again or a human replies otherwise. Each route: happy path, each error, each tier.
import { afterEach, describe, expect, it } from 'vitest';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { one, rows } from '../inbox/db-view.js';
import { attachAgent } from '../outbound/harness.js';
import { deliver, deliveryOf, messagesChange, signed } from '../webhook/deliveries.js';

const BASE = '/api/extensions/native-whatsapp/runtime/conversations';
const EXECUTE = '/api/extensions/native-whatsapp/runtime/execute';
const CUSTOMER = '4917000000601';

// Route hybrid (automation_mode assisted, the default) and a rule that always drafts something.
const CONFIG = {
  runtime: { automation_mode: 'assisted' },
  responder: { kind: 'rules', rules: [{ id: 'price', keywords: ['price'], reply: 'It costs 10 EUR.' }] },
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
});

interface Setup {
  t: TestApp;
  conversation: string;
  draft: string;
}

async function customerWrites(t: TestApp, body: string): Promise<void> {
  const ts = Math.floor(t.clock.now() / 1000);
  await deliver(
    t,
    signed(deliveryOf([messagesChange([{ wa_id: CUSTOMER }], [{ from: CUSTOMER, timestamp: ts, body }])])),
  );
  await t.deps.outbound.responder.drain();
}

async function setup(config: Record<string, unknown> = CONFIG): Promise<Setup> {
  const t = await createTestApp({ config });
  cleanups.push(() => t.close());
  await attachAgent(t);
  await customerWrites(t, 'what is the price?');
  const conversation = one<{ id: string }>(t, 'select id from conversations').id;
  const draft = one<{ id: string }>(t, 'select id from drafts').id;
  return { t, conversation, draft };
}

const list = (s: Setup, token?: string | null, conversation = s.conversation) =>
  s.t.request(`${BASE}/${conversation}/drafts`, { token: token === undefined ? s.t.tokens.standard : token });

const decide = (
  s: Setup,
  verb: 'approve' | 'discard',
  opts: { body?: unknown; token?: string | null; draft?: string; conversation?: string } = {},
) =>
  s.t.request(`${BASE}/${opts.conversation ?? s.conversation}/drafts/${opts.draft ?? s.draft}/${verb}`, {
    method: 'POST',
    body: opts.body ?? {},
    token: opts.token === undefined ? s.t.tokens.standard : opts.token,
  });

const outbox = (t: TestApp) =>
  rows<{ id: string; kind: string; state: string; payload: string }>(t, 'select * from outbox order by id');

/** The draft.resolved events in the domain event log (SPEC §11), oldest first. */
const resolvedEvents = (t: TestApp) =>
  rows<{ conversation_id: string; data: string }>(
    t,
    "select conversation_id, data from domain_events where type = 'draft.resolved' order by seq",
  ).map((e) => ({ conversation_id: e.conversation_id, ...JSON.parse(e.data) }));

describe('GET .../conversations/:id/drafts', () => {
  it('lists the pending draft a hybrid conversation got', async () => {
    const s = await setup();
    const res = await list(s);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      items: [
        {
          id: s.draft,
          conversation_id: s.conversation,
          text: 'It costs 10 EUR.',
          source: 'rules',
          state: 'pending',
          sent_text: null,
          outbox_id: null,
          decided_by: null,
          decided_reason: null,
          decided_at: null,
          created_at: expect.any(String),
          updated_at: expect.any(String),
        },
      ],
    });
  });

  it('the conversation detail shows the same drafts', async () => {
    const s = await setup();
    const detail = await json(await s.t.request(`${BASE}/${s.conversation}`, { token: s.t.tokens.standard }));
    expect(detail.drafts).toEqual((await json(await list(s))).items);
  });

  it('404 for an unknown conversation', async () => {
    const s = await setup();
    const res = await list(s, undefined, 'nope');
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe('not_found');
  });

  it('401 without a token', async () => {
    const s = await setup();
    expect((await list(s, null)).status).toBe(401);
  });

  it('root may read too', async () => {
    const s = await setup();
    expect((await list(s, s.t.tokens.root)).status).toBe(200);
  });
});

describe('POST .../drafts/:draft_id/approve', () => {
  it('queues the draft text as a manual reply and sends it through the normal outbound path', async () => {
    const s = await setup();
    const res = await decide(s, 'approve');
    expect(res.status).toBe(202);
    const { draft } = await json(res);
    expect(draft).toMatchObject({
      state: 'approved',
      sent_text: 'It costs 10 EUR.',
      decided_at: expect.any(String),
    });
    expect(draft.decided_by).toMatch(/^token:/);
    const [row] = outbox(s.t);
    expect(row).toMatchObject({ id: draft.outbox_id, kind: 'manual', state: 'queued' });
    expect(JSON.parse(row?.payload ?? '{}').content).toEqual({ type: 'text', text: 'It costs 10 EUR.' });
    await s.t.deps.outbound.sender.drain();
    expect(outbox(s.t)[0]?.state).toBe('sent');
    const conv = one<{ queue_state: string }>(s.t, 'select queue_state from conversations');
    expect(conv.queue_state).toBe('pending');
  });

  it('sends an edited text instead of the draft’s own', async () => {
    const s = await setup();
    const res = await decide(s, 'approve', { body: { text: 'It costs 10 EUR, shipping included.' } });
    expect(res.status).toBe(202);
    expect((await json(res)).draft.sent_text).toBe('It costs 10 EUR, shipping included.');
    expect(JSON.parse(outbox(s.t)[0]?.payload ?? '{}').content.text).toBe(
      'It costs 10 EUR, shipping included.',
    );
    expect(resolvedEvents(s.t)).toEqual([
      expect.objectContaining({
        conversation_id: s.conversation,
        draft_id: s.draft,
        resolution: 'approved',
        edited: true,
      }),
    ]);
  });

  it('accepts an empty request body as "send the draft as it is"', async () => {
    const s = await setup();
    const res = await s.t.request(`${BASE}/${s.conversation}/drafts/${s.draft}/approve`, {
      method: 'POST',
      body: {},
      token: s.t.tokens.standard,
    });
    expect(res.status).toBe(202);
  });

  it('400 for an empty edited text or an unknown field, and nothing is queued', async () => {
    const s = await setup();
    for (const body of [{ text: '  ' }, { text: 'x', extra: 1 }, { text: 'x'.repeat(4097) }]) {
      const res = await decide(s, 'approve', { body });
      expect(res.status).toBe(400);
      expect((await json(res)).error.code).toBe('validation_failed');
    }
    expect(outbox(s.t)).toHaveLength(0);
  });

  it('404 for a draft of another conversation or an unknown one', async () => {
    const s = await setup();
    expect((await decide(s, 'approve', { draft: 'nope' })).status).toBe(404);
    expect((await decide(s, 'approve', { conversation: 'nope' })).status).toBe(404);
  });

  it('409 invalid_state when the draft was already decided', async () => {
    const s = await setup();
    expect((await decide(s, 'approve')).status).toBe(202);
    const again = await decide(s, 'approve');
    expect(again.status).toBe(409);
    expect((await json(again)).error).toMatchObject({
      code: 'invalid_state',
      details: { state: 'approved' },
    });
    expect(outbox(s.t)).toHaveLength(1);
  });

  it('409 window_closed once the customer service window is over', async () => {
    const s = await setup();
    s.t.clock.advance(25 * 3600_000);
    const res = await decide(s, 'approve');
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe('window_closed');
    expect(one<{ state: string }>(s.t, 'select state from drafts').state).toBe('pending');
  });

  it('409 runtime_paused while root paused the runtime', async () => {
    const s = await setup({ ...CONFIG, runtime: { automation_mode: 'assisted', status: 'paused' } });
    const res = await decide(s, 'approve');
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe('runtime_paused');
  });

  it('401 without a token; a root token may approve', async () => {
    const s = await setup();
    expect((await decide(s, 'approve', { token: null })).status).toBe(401);
    expect((await decide(s, 'approve', { token: s.t.tokens.root })).status).toBe(202);
  });
});

describe('POST .../drafts/:draft_id/discard', () => {
  it('discards the draft and sends nothing', async () => {
    const s = await setup();
    const res = await decide(s, 'discard');
    expect(res.status).toBe(200);
    expect((await json(res)).draft).toMatchObject({ state: 'discarded', outbox_id: null });
    expect(outbox(s.t)).toHaveLength(0);
    expect(resolvedEvents(s.t)).toEqual([
      expect.objectContaining({
        conversation_id: s.conversation,
        draft_id: s.draft,
        resolution: 'discarded',
      }),
    ]);
  });

  it('404 for an unknown draft, 409 for a decided one', async () => {
    const s = await setup();
    expect((await decide(s, 'discard', { draft: 'nope' })).status).toBe(404);
    expect((await decide(s, 'discard')).status).toBe(200);
    const again = await decide(s, 'discard');
    expect(again.status).toBe(409);
    expect((await json(again)).error.code).toBe('invalid_state');
  });

  it('401 without a token; a root token may discard', async () => {
    const s = await setup();
    expect((await decide(s, 'discard', { token: null })).status).toBe(401);
    expect((await decide(s, 'discard', { token: s.t.tokens.root })).status).toBe(200);
  });
});

describe('superseded drafts', () => {
  it('a pending draft is superseded when the customer writes again', async () => {
    const s = await setup();
    await customerWrites(s.t, 'hello?');
    const [first] = (await json(await list(s))).items;
    expect(first).toMatchObject({ id: s.draft, state: 'superseded', decided_reason: 'customer_wrote_again' });
    expect(resolvedEvents(s.t)).toEqual([
      expect.objectContaining({
        conversation_id: s.conversation,
        draft_id: s.draft,
        resolution: 'superseded',
        reason: 'customer_wrote_again',
      }),
    ]);
    expect((await decide(s, 'approve')).status).toBe(409);
  });

  it('a pending draft is superseded when a human replies otherwise', async () => {
    const s = await setup();
    const agent = one<{ uuid: string }>(s.t, 'select uuid from agents').uuid;
    const res = await s.t.request(EXECUTE, {
      body: {
        agent_uuid: agent,
        intent: 'reply_conversation',
        context: { platform: 'whatsapp', conversation_id: s.conversation, text: 'Let me check.' },
      },
    });
    expect(res.status).toBe(202);
    await s.t.deps.outbound.sender.drain();
    const [draft] = (await json(await list(s))).items;
    expect(draft).toMatchObject({
      state: 'superseded',
      decided_reason: 'human_replied',
      decided_by: 'engine',
    });
  });

  it('approving one draft supersedes the others once its reply is sent', async () => {
    const s = await setup();
    // A second draft for the same waiting customer (the responder job ran twice).
    await s.t.deps.db
      .insertInto('drafts')
      .values({
        id: 'zz-second',
        conversation_id: s.conversation,
        text: 'Another answer',
        source: 'rules:price',
        state: 'pending',
        sent_text: null,
        outbox_id: null,
        decided_by: null,
        decided_reason: null,
        decided_at: null,
        created_at: s.t.clock.now(),
        updated_at: s.t.clock.now(),
      })
      .execute();
    expect((await decide(s, 'approve')).status).toBe(202);
    await s.t.deps.outbound.sender.drain();
    const states = (await json(await list(s))).items.map((d: { state: string }) => d.state);
    expect(states).toEqual(['approved', 'superseded']);
  });

  it('an auto-reply or follow-up does not supersede a draft', async () => {
    const { supersedingReason } = await import('../../src/conversations/drafts.js');
    expect(supersedingReason({ type: 'business_message_sent', at: 0, source: 'follow_up' })).toBeNull();
    expect(supersedingReason({ type: 'business_message_sent', at: 0, source: 'auto_reply' })).toBeNull();
    expect(
      supersedingReason({ type: 'customer_message', at: 0, text: null, message_type: 'reaction' }),
    ).toBeNull();
  });
});
