import { describe, expect, it } from 'vitest';
import type { ConversationFacts, QueueState } from '../../src/conversations/conversation.js';
import {
  type ConversationEvent,
  type Effect,
  type TransitionResult,
  transition,
} from '../../src/conversations/state-machine.js';
import { COMPLAINTS, engineConfig, FIXTURE_TEXTS, NEUTRALS } from './engine-config.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 0, 10, 12, 0, 0);
const config = engineConfig();

/** A conversation in `state`, quiet for 4 days (so idle and SLA checks pass unless a test moves it). */
function facts(state: QueueState, over: Partial<ConversationFacts> = {}): ConversationFacts {
  const base: ConversationFacts = {
    queue_state: state,
    assigned_route: state === 'escalated' ? 'human' : 'hybrid',
    conversation_class: 'general',
    priority: 'normal',
    opted_out: false,
    opened_at: NOW - 5 * DAY,
    last_customer_message_at: NOW - 4 * DAY,
    last_business_message_at: state === 'pending' ? NOW - 4 * DAY + MIN : null,
    closed_at: state === 'closed' ? NOW - HOUR : null,
    closed_reason: state === 'closed' ? 'intent' : null,
    escalation_reason: state === 'escalated' ? 'keyword "refund" (en)' : null,
    turns_total: 1,
    turns_answered: state === 'pending' ? 1 : 0,
    unanswered_count: state === 'open' || state === 'escalated' ? 1 : 0,
    ...over,
  };
  return Object.freeze(base);
}

const customerMessage = (text: string | null, at = NOW, message_type = 'text'): ConversationEvent => ({
  type: 'customer_message',
  at,
  text,
  message_type,
});

function ok(r: TransitionResult): Extract<TransitionResult, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok, got ${r.code}: ${r.message}`);
  return r;
}

const kinds = (effects: Effect[]) => effects.map((e) => e.kind);

type StartKey = 'none' | QueueState | 'closed_long_ago';
const starts: Record<StartKey, ConversationFacts | null> = {
  none: null,
  open: facts('open'),
  pending: facts('pending'),
  escalated: facts('escalated'),
  closed: facts('closed'),
  closed_long_ago: facts('closed', { closed_at: NOW - 3 * DAY }),
};

const events: Record<string, ConversationEvent> = {
  customer_message: customerMessage(FIXTURE_TEXTS.msg_text_plain),
  business_message_sent: { type: 'business_message_sent', at: NOW, source: 'reply' },
  escalate: { type: 'escalate', reason: 'customer asked for a manager', actor: 'token:ops' },
  route_ai: { type: 'route', to: 'ai', actor: 'token:ops' },
  close_intent: { type: 'close', reason: 'intent', actor: 'token:ops' },
  close_idle: { type: 'close', reason: 'idle' },
  close_opt_out: { type: 'close', reason: 'opt_out' },
  sla_breach: { type: 'sla_breach' },
  permanent_send_failure: { type: 'permanent_send_failure', error_code: 131026 },
  opt_out: { type: 'opt_out' },
  opt_in: { type: 'opt_in' },
};

type Expect =
  | 'refused'
  | { to: QueueState; new?: boolean; effects: Effect['kind'][]; route?: 'ai' | 'hybrid' | 'human' };

const CLOSE_OPT_OUT: Effect['kind'][] = ['set_opt_out', 'cancel_follow_ups', 'cancel_campaign_sends'];

// Every start × every event. Routes: open/pending/closed start as hybrid, escalated as human.
const table: Record<StartKey, Record<keyof typeof events, Expect>> = {
  none: {
    customer_message: { to: 'open', new: true, effects: ['draft_reply'], route: 'hybrid' },
    business_message_sent: 'refused',
    escalate: 'refused',
    route_ai: 'refused',
    close_intent: 'refused',
    close_idle: 'refused',
    close_opt_out: 'refused',
    sla_breach: 'refused',
    permanent_send_failure: 'refused',
    opt_out: 'refused',
    opt_in: 'refused',
  },
  open: {
    customer_message: { to: 'open', effects: ['draft_reply'] },
    business_message_sent: { to: 'pending', effects: ['schedule_follow_up'] },
    escalate: { to: 'escalated', effects: ['cancel_follow_ups'], route: 'human' },
    route_ai: { to: 'open', effects: ['auto_reply'], route: 'ai' },
    close_intent: { to: 'closed', effects: ['cancel_follow_ups'] },
    close_idle: { to: 'closed', effects: ['cancel_follow_ups'] },
    close_opt_out: { to: 'closed', effects: CLOSE_OPT_OUT },
    sla_breach: { to: 'escalated', effects: ['cancel_follow_ups'], route: 'human' },
    permanent_send_failure: { to: 'escalated', effects: ['cancel_follow_ups'], route: 'human' },
    opt_out: { to: 'closed', effects: CLOSE_OPT_OUT },
    opt_in: { to: 'open', effects: [] },
  },
  pending: {
    customer_message: { to: 'open', effects: ['cancel_follow_ups', 'draft_reply'] },
    business_message_sent: { to: 'pending', effects: ['schedule_follow_up'] },
    escalate: { to: 'escalated', effects: ['cancel_follow_ups'], route: 'human' },
    route_ai: { to: 'pending', effects: [], route: 'ai' },
    close_intent: { to: 'closed', effects: ['cancel_follow_ups'] },
    close_idle: { to: 'closed', effects: ['cancel_follow_ups'] },
    close_opt_out: { to: 'closed', effects: CLOSE_OPT_OUT },
    sla_breach: 'refused',
    permanent_send_failure: { to: 'escalated', effects: ['cancel_follow_ups'], route: 'human' },
    opt_out: { to: 'closed', effects: CLOSE_OPT_OUT },
    opt_in: { to: 'pending', effects: [] },
  },
  escalated: {
    customer_message: { to: 'escalated', effects: [], route: 'human' },
    business_message_sent: { to: 'escalated', effects: [] },
    escalate: 'refused',
    route_ai: { to: 'open', effects: ['auto_reply'], route: 'ai' },
    close_intent: { to: 'closed', effects: ['cancel_follow_ups'] },
    close_idle: 'refused',
    close_opt_out: { to: 'closed', effects: CLOSE_OPT_OUT },
    sla_breach: 'refused',
    permanent_send_failure: { to: 'escalated', effects: [] },
    opt_out: { to: 'closed', effects: CLOSE_OPT_OUT },
    opt_in: { to: 'escalated', effects: [] },
  },
  closed: {
    customer_message: { to: 'open', effects: ['draft_reply'], route: 'hybrid' },
    business_message_sent: { to: 'closed', effects: [] },
    escalate: 'refused',
    route_ai: 'refused',
    close_intent: 'refused',
    close_idle: 'refused',
    close_opt_out: 'refused',
    sla_breach: 'refused',
    permanent_send_failure: { to: 'closed', effects: [] },
    opt_out: { to: 'closed', effects: CLOSE_OPT_OUT },
    opt_in: { to: 'closed', effects: [] },
  },
  closed_long_ago: {
    customer_message: { to: 'open', new: true, effects: ['draft_reply'] },
    business_message_sent: { to: 'closed', effects: [] },
    escalate: 'refused',
    route_ai: 'refused',
    close_intent: 'refused',
    close_idle: 'refused',
    close_opt_out: 'refused',
    sla_breach: 'refused',
    permanent_send_failure: { to: 'closed', effects: [] },
    opt_out: { to: 'closed', effects: CLOSE_OPT_OUT },
    opt_in: { to: 'closed', effects: [] },
  },
};

const cases = Object.entries(table).flatMap(([start, row]) =>
  Object.entries(row).map(([event, expected]) => ({ start: start as StartKey, event, expected })),
);

describe('transition: every state × every event', () => {
  it.each(cases)('$start + $event', ({ start, event, expected }) => {
    const conv = starts[start];
    const ev = events[event] as ConversationEvent;
    const result = transition(conv, ev, NOW, config);
    if (expected === 'refused') {
      expect(result).toMatchObject({ ok: false, code: 'invalid_state' });
      expect((result as { message: string }).message.length).toBeGreaterThan(10);
      return;
    }
    const r = ok(result);
    expect(r.next.queue_state).toBe(expected.to);
    expect(r.started_new).toBe(expected.new ?? false);
    expect(kinds(r.effects)).toEqual(expected.effects);
    if (expected.route) expect(r.next.assigned_route).toBe(expected.route);
    // Every change of state is recorded, and only changes are.
    const from = r.started_new ? null : (conv?.queue_state ?? null);
    if (from !== expected.to) {
      expect(r.transitions.at(-1)).toMatchObject({ to: expected.to, at: NOW });
      expect(r.transitions[0]?.from).toBe(from);
    }
    for (const t of r.transitions) {
      expect(t.reason).not.toBe('');
      expect(t.actor).not.toBe('');
    }
  });
});

describe('customer messages', () => {
  it('start a conversation with the class, route and window of the first message', () => {
    const cfg = engineConfig({
      conversation_classes: [
        { name: 'sales', match: { keywords: ['price'] }, route: 'ai', priority: 'high' },
      ],
    });
    const r = ok(transition(null, customerMessage('What is the price?', NOW - MIN), NOW, cfg));
    expect(r.next).toMatchObject({
      queue_state: 'open',
      conversation_class: 'sales',
      assigned_route: 'ai',
      priority: 'high',
      opened_at: NOW - MIN,
      last_customer_message_at: NOW - MIN,
      turns_total: 1,
      unanswered_count: 1,
    });
    expect(r.transitions).toEqual([
      { from: null, to: 'open', reason: 'new_conversation', actor: 'customer', at: NOW },
    ]);
    expect(r.analysis.classification?.class).toBe('sales');
    expect(kinds(r.effects)).toEqual(['auto_reply']);
  });

  it.each([
    ['autonomous', 'ai', 'auto_reply'],
    ['assisted', 'hybrid', 'draft_reply'],
    ['priority', 'ai', 'auto_reply'],
  ])('in %s mode route a new general conversation to %s (%s)', (mode, route, effect) => {
    const cfg = engineConfig({ runtime: { automation_mode: mode } });
    const r = ok(transition(null, customerMessage('hello'), NOW, cfg));
    expect(r.next.assigned_route).toBe(route);
    expect(kinds(r.effects)).toEqual([effect]);
  });

  it('asks for no reply on route human', () => {
    const r = ok(
      transition(facts('open', { assigned_route: 'human' }), customerMessage('hello'), NOW, config),
    );
    expect(r.effects).toEqual([]);
  });

  it('reopens a conversation closed less than reopen_within ago, else starts a new one', () => {
    const closedAt = NOW - 24 * HOUR;
    const conv = facts('closed', { closed_at: closedAt, escalation_reason: 'x', closed_reason: 'intent' });
    const justInside = ok(transition(conv, customerMessage('hi', closedAt + 24 * HOUR - 1), NOW, config));
    expect(justInside.started_new).toBe(false);
    expect(justInside.next).toMatchObject({
      queue_state: 'open',
      closed_at: null,
      closed_reason: null,
      escalation_reason: null,
    });
    expect(justInside.transitions[0]).toMatchObject({ from: 'closed', to: 'open', reason: 'reopened' });
    const atLimit = ok(transition(conv, customerMessage('hi', closedAt + 24 * HOUR), NOW, config));
    expect(atLimit.started_new).toBe(true);
    expect(atLimit.next.turns_total).toBe(1);
  });

  it('honours a configured reopen_within', () => {
    const cfg = engineConfig({ conversations: { reopen_within: '1h' } });
    const conv = facts('closed', { closed_at: NOW - 2 * HOUR });
    expect(ok(transition(conv, customerMessage('hi'), NOW, cfg)).started_new).toBe(true);
    expect(ok(transition(conv, customerMessage('hi'), NOW, config)).started_new).toBe(false);
  });

  it('keep an escalated conversation escalated, counting the unanswered messages', () => {
    let conv: ConversationFacts = facts('escalated');
    for (let i = 1; i <= 5; i++) {
      const r = ok(transition(conv, customerMessage('hello?', NOW + i), NOW + i, config));
      expect(r.next.queue_state).toBe('escalated');
      expect(r.transitions).toEqual([]);
      conv = r.next;
    }
    expect(conv.unanswered_count).toBe(6);
  });

  it('never move the window back for an older message processed late', () => {
    const conv = facts('open', { last_customer_message_at: NOW });
    const r = ok(transition(conv, customerMessage('earlier', NOW - HOUR), NOW, config));
    expect(r.next.last_customer_message_at).toBe(NOW);
  });

  it.each(['reaction', 'system'])('a %s changes nothing and does not open the window', (type) => {
    const conv = facts('pending');
    const r = ok(transition(conv, customerMessage('👍', NOW, type), NOW, config));
    expect(r.next).toEqual(conv);
    expect(r.effects).toEqual([]);
    expect(transition(null, customerMessage('👍', NOW, type), NOW, config).ok).toBe(false);
  });

  it('a media message without text still counts as a customer message', () => {
    const r = ok(transition(facts('pending'), customerMessage(null, NOW, 'image'), NOW, config));
    expect(r.next).toMatchObject({ queue_state: 'open', unanswered_count: 1, last_customer_message_at: NOW });
    expect(r.analysis.score).toBeUndefined();
  });

  it('score each text message', () => {
    const r = ok(transition(facts('open'), customerMessage('thanks, great service'), NOW, config));
    expect(r.analysis.score?.sentiment).toBeGreaterThan(0);
  });
});

describe('escalation from customer messages', () => {
  it.each(COMPLAINTS)('the %s complaint fixture escalates a new conversation to a human', (_lang, text) => {
    const r = ok(transition(null, customerMessage(text), NOW, config));
    expect(r.next.queue_state).toBe('escalated');
    expect(r.next.assigned_route).toBe('human');
    expect(r.next.escalation_reason).toMatch(/^keyword "/);
    expect(r.transitions.map((t) => [t.from, t.to])).toEqual([
      [null, 'open'],
      ['open', 'escalated'],
    ]);
    expect(r.transitions[1]?.actor).toBe('system');
    expect(kinds(r.effects)).toEqual(['cancel_follow_ups']);
  });

  it.each(NEUTRALS)('the neutral %s fixture stays open', (_lang, text) => {
    const r = ok(transition(null, customerMessage(text), NOW, config));
    expect(r.next.queue_state).toBe('open');
    expect(r.next.escalation_reason).toBeNull();
  });

  it('the three-message batch fixture escalates on the third unanswered message', () => {
    let conv: ConversationFacts | null = null;
    const states: string[] = [];
    FIXTURE_TEXTS.batch_three.forEach((text, i) => {
      const r = ok(transition(conv, customerMessage(text, NOW + i * 1000), NOW + i * 1000, config));
      conv = r.next;
      states.push(r.next.queue_state);
    });
    expect(states).toEqual(['open', 'open', 'escalated']);
    expect((conv as ConversationFacts | null)?.escalation_reason).toBe('3 customer messages without a reply');
  });

  it('a customer reply to a pending conversation starts the unanswered count again', () => {
    const conv = facts('pending', { unanswered_count: 0 });
    const r = ok(transition(conv, customerMessage('ok'), NOW, config));
    expect(r.next).toMatchObject({ queue_state: 'open', unanswered_count: 1 });
  });

  it('escalation rules switched off leave a complaint open', () => {
    const cfg = engineConfig({
      escalation: { keywords: {}, sentiment_threshold: null, unanswered_messages: null },
    });
    const r = ok(transition(null, customerMessage(FIXTURE_TEXTS.lang_es_complaint_human), NOW, cfg));
    expect(r.next.queue_state).toBe('open');
  });
});

describe('business messages', () => {
  it('answer the turn and plan follow-ups from the message time', () => {
    const r = ok(transition(facts('open'), { type: 'business_message_sent', at: NOW - 5 }, NOW, config));
    expect(r.next).toMatchObject({
      queue_state: 'pending',
      unanswered_count: 0,
      turns_answered: 1,
      last_business_message_at: NOW - 5,
    });
    expect(r.effects).toEqual([{ kind: 'schedule_follow_up', silence_from: NOW - 5 }]);
    expect(r.transitions[0]).toMatchObject({
      from: 'open',
      to: 'pending',
      reason: 'business_message',
      actor: 'business',
    });
  });

  it('a follow-up does not plan follow-ups again', () => {
    const r = ok(
      transition(
        facts('pending'),
        { type: 'business_message_sent', at: NOW, source: 'follow_up' },
        NOW,
        config,
      ),
    );
    expect(r.effects).toEqual([]);
  });

  it('a human answer on an escalated conversation keeps it escalated', () => {
    const r = ok(
      transition(
        facts('escalated'),
        { type: 'business_message_sent', at: NOW, actor: 'agent:7' },
        NOW,
        config,
      ),
    );
    expect(r.next).toMatchObject({ queue_state: 'escalated', unanswered_count: 0, turns_answered: 1 });
  });
});

describe('routing', () => {
  it('routing back an escalated conversation nobody waits on makes it pending with follow-ups', () => {
    const conv = facts('escalated', { unanswered_count: 0, last_business_message_at: NOW - HOUR });
    const r = ok(transition(conv, { type: 'route', to: 'hybrid', actor: 'token:ops' }, NOW, config));
    expect(r.next).toMatchObject({
      queue_state: 'pending',
      assigned_route: 'hybrid',
      escalation_reason: null,
    });
    expect(r.transitions).toEqual([
      { from: 'escalated', to: 'pending', reason: 'routed_to_hybrid', actor: 'token:ops', at: NOW },
    ]);
    expect(r.effects).toEqual([{ kind: 'schedule_follow_up', silence_from: NOW - HOUR }]);
  });

  it('routing to the current route changes and records nothing', () => {
    const r = ok(transition(facts('open'), { type: 'route', to: 'hybrid' }, NOW, config));
    expect(r.transitions).toEqual([]);
    expect(r.effects).toEqual([]);
  });

  it('a route change is recorded with the state unchanged', () => {
    const r = ok(transition(facts('pending'), { type: 'route', to: 'human', actor: 'a' }, NOW, config));
    expect(r.transitions).toEqual([
      { from: 'pending', to: 'pending', reason: 'routed_to_human', actor: 'a', at: NOW },
    ]);
  });
});

describe('closing', () => {
  it('records reason, time and actor', () => {
    const r = ok(
      transition(facts('pending'), { type: 'close', reason: 'intent', actor: 'token:ops' }, NOW, config),
    );
    expect(r.next).toMatchObject({ queue_state: 'closed', closed_reason: 'intent', closed_at: NOW });
    expect(r.transitions).toEqual([
      { from: 'pending', to: 'closed', reason: 'closed: intent', actor: 'token:ops', at: NOW },
    ]);
  });

  it.each([
    ['a customer message', { last_customer_message_at: NOW - 72 * HOUR + 1 }],
    ['a business message', { last_business_message_at: NOW - HOUR }],
    ['a fresh start', { opened_at: NOW - MIN, last_customer_message_at: null }],
  ])('refuses an idle close after recent activity (%s)', (_label, over) => {
    const r = transition(facts('pending', over), { type: 'close', reason: 'idle' }, NOW, config);
    expect(r).toMatchObject({ ok: false, code: 'invalid_state' });
  });

  it('closes idle at exactly close_after of silence', () => {
    const conv = facts('pending', {
      last_customer_message_at: NOW - 80 * HOUR,
      last_business_message_at: NOW - 72 * HOUR,
    });
    expect(ok(transition(conv, { type: 'close', reason: 'idle' }, NOW, config)).next.closed_reason).toBe(
      'idle',
    );
  });
});

describe('SLA and send failures', () => {
  it('escalates an open human conversation only once its SLA has run out', () => {
    const conv = facts('open', { assigned_route: 'human', last_customer_message_at: NOW - 15 * MIN + 1 });
    expect(transition(conv, { type: 'sla_breach' }, NOW, config).ok).toBe(false);
    const r = ok(transition(conv, { type: 'sla_breach' }, NOW + 1, config));
    expect(r.next).toMatchObject({ queue_state: 'escalated', escalation_reason: 'no reply within 15m' });
  });

  it('does not apply the SLA to route ai', () => {
    const conv = facts('open', { assigned_route: 'ai' });
    expect(transition(conv, { type: 'sla_breach' }, NOW, config).ok).toBe(false);
  });

  it('leaves the conversation alone on a permanent failure when that rule is off', () => {
    const cfg = engineConfig({ escalation: { on_permanent_failure: false } });
    const r = ok(
      transition(facts('pending'), { type: 'permanent_send_failure', error_code: 131026 }, NOW, cfg),
    );
    expect(r.next.queue_state).toBe('pending');
    expect(r.transitions).toEqual([]);
  });

  it('names the failed code in the escalation reason', () => {
    const r = ok(
      transition(facts('pending'), { type: 'permanent_send_failure', error_code: 131026 }, NOW, config),
    );
    expect(r.next.escalation_reason).toBe('an outbound message failed permanently (131026)');
  });
});

describe('opt-out and opt-in messages', () => {
  it.each(['STOP', ' STOP ', '  stop ', 'unsubscribe'])(
    '%j closes the conversation with reason opt_out',
    (text) => {
      const r = ok(transition(facts('pending'), customerMessage(text), NOW, config));
      expect(r.next).toMatchObject({ queue_state: 'closed', closed_reason: 'opt_out', opted_out: true });
      expect(r.effects).toEqual([
        { kind: 'cancel_follow_ups', reason: 'customer replied' },
        {
          kind: 'set_opt_out',
          opted_out: true,
          keyword: 'STOP' === text.trim().toUpperCase() ? 'STOP' : 'UNSUBSCRIBE',
        },
        { kind: 'cancel_campaign_sends' },
      ]);
      expect(r.transitions.map((t) => t.to)).toEqual(['open', 'closed']);
    },
  );

  it('"Stop." is an ordinary message', () => {
    const r = ok(transition(facts('pending'), customerMessage('Stop.'), NOW, config));
    expect(r.next).toMatchObject({ queue_state: 'open', opted_out: false });
  });

  it('a first message STOP makes a conversation that is closed at once', () => {
    const r = ok(transition(null, customerMessage('STOP'), NOW, config));
    expect(r.started_new).toBe(true);
    expect(r.next).toMatchObject({ queue_state: 'closed', closed_reason: 'opt_out', opted_out: true });
  });

  it('STOP after the conversation was closed long ago records the opt-out without a new conversation', () => {
    const conv = facts('closed', { closed_at: NOW - 10 * DAY });
    const r = ok(transition(conv, customerMessage('STOP'), NOW, config));
    expect(r.started_new).toBe(false);
    expect(r.transitions).toEqual([]);
    expect(r.next).toMatchObject({ queue_state: 'closed', closed_reason: 'intent', opted_out: true });
    expect(kinds(r.effects)).toEqual(['set_opt_out', 'cancel_follow_ups', 'cancel_campaign_sends']);
  });

  it('an opted-out customer who writes gets no automated reply', () => {
    const conv = facts('open', { opted_out: true, assigned_route: 'ai' });
    const r = ok(transition(conv, customerMessage('hello again'), NOW, config));
    expect(r.effects).toEqual([]);
  });

  it('START opts back in, reopens, and is not answered or escalated', () => {
    const closed = facts('closed', { opted_out: true, closed_reason: 'opt_out', closed_at: NOW - HOUR });
    const r = ok(transition(closed, customerMessage('START'), NOW, config));
    expect(r.next).toMatchObject({ queue_state: 'open', opted_out: false });
    expect(r.effects).toEqual([{ kind: 'set_opt_out', opted_out: false, keyword: 'START' }]);
    expect(r.analysis.opt?.kind).toBe('opt_in');
  });

  it('START long after the opt-out starts a new conversation that remembers the contact opted back in', () => {
    const closed = facts('closed', { opted_out: true, closed_reason: 'opt_out', closed_at: NOW - 5 * DAY });
    const r = ok(transition(closed, customerMessage('start'), NOW, config));
    expect(r.started_new).toBe(true);
    expect(r.next.opted_out).toBe(false);
    expect(kinds(r.effects)).toEqual(['set_opt_out']);
  });

  it('per-language opt-out words from config work', () => {
    const cfg = engineConfig({ opt_out: { keywords: { default: ['STOP'], pt: ['SAIR'] } } });
    const r = ok(transition(facts('open'), customerMessage('sair'), NOW, cfg));
    expect(r.next.closed_reason).toBe('opt_out');
  });

  it('opt_in on a contact that never opted out changes nothing', () => {
    const conv = facts('open');
    const r = ok(transition(conv, { type: 'opt_in' }, NOW, config));
    expect(r.next).toEqual(conv);
    expect(r.effects).toEqual([]);
  });
});

describe('purity', () => {
  it('never mutates its input, refused or not', () => {
    for (const conv of Object.values(starts)) {
      for (const ev of Object.values(events)) {
        // Frozen inputs make any mutation throw in strict mode.
        expect(() => transition(conv, ev, NOW, config)).not.toThrow();
      }
    }
  });

  it('gives the same answer for the same input', () => {
    const a = transition(null, customerMessage(FIXTURE_TEXTS.lang_pt_complaint_human), NOW, config);
    const b = transition(null, customerMessage(FIXTURE_TEXTS.lang_pt_complaint_human), NOW, config);
    expect(a).toEqual(b);
  });
});

describe('reply counters across a conversation', () => {
  it('track turns, answers and the reply rate inputs', () => {
    let conv: ConversationFacts | null = null;
    const step = (ev: ConversationEvent) => {
      conv = ok(transition(conv, ev, NOW, config)).next;
    };
    step(customerMessage('hi'));
    step(customerMessage('anyone?'));
    step({ type: 'business_message_sent', at: NOW });
    step(customerMessage('thanks'));
    step({ type: 'business_message_sent', at: NOW });
    step({ type: 'business_message_sent', at: NOW, source: 'follow_up' });
    step(customerMessage('one more thing'));
    expect(conv).toMatchObject({
      turns_total: 3,
      turns_answered: 2,
      unanswered_count: 1,
      queue_state: 'open',
    });
  });
});
