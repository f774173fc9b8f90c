// The conversation state machine (SPEC §4) as one pure function: facts + event → new facts, the
// transitions to record and the effects the caller must carry out (cancel follow-ups, reply, ...).
// It never touches storage or the network; an illegal event is refused and changes nothing.
// Over 300 lines on purpose: one pure function over one table of states and events; split, the
// table would be read in pieces.
import { type Classification, type ClassifyInput, classify } from './classify.js';
import type {
  CloseReason,
  ConversationFacts,
  EngineConfig,
  QueueState,
  Route,
  TransitionRecord,
} from './conversation.js';
import {
  type EscalationDecision,
  evaluateMessageEscalation,
  isSlaBreached,
  permanentFailureEscalation,
  slaEscalation,
} from './escalation.js';
import { decideOpt, type OptDecision } from './opt-out.js';
import { countBusinessReply, countCustomerMessage, ZERO_TURNS } from './reply-metrics.js';
import { ESCALATION_ROUTE } from './routing.js';
import { type Score, scoreText } from './scorer.js';

export type BusinessMessageSource =
  | 'reply'
  | 'auto_reply'
  | 'agent'
  | 'follow_up'
  | 'campaign'
  /** smb_message_echoes: the business answered from the WhatsApp Business app (SPEC §3a). */
  | 'business_app';

export type ConversationEvent =
  | {
      type: 'customer_message';
      /** The message's own timestamp (ms); the window and reopen check count from it. */
      at: number;
      text: string | null;
      message_type: string;
      referral?: ClassifyInput['referral'];
      /** The id of the button or list row the customer chose (interactive / button messages). */
      reply_id?: string | null;
    }
  | {
      /** A business message the API accepted. */
      type: 'business_message_sent';
      at: number;
      source?: BusinessMessageSource;
      actor?: string;
    }
  | { type: 'escalate'; reason?: string; actor?: string }
  | { type: 'route'; to: Route; actor?: string }
  | { type: 'close'; reason: CloseReason; actor?: string }
  | { type: 'sla_breach' }
  | { type: 'permanent_send_failure'; error_code?: number | string | null }
  | { type: 'opt_out'; actor?: string }
  | { type: 'opt_in'; actor?: string };

export type EventType = ConversationEvent['type'];

export type Effect =
  | { kind: 'cancel_follow_ups'; reason: string }
  /** Plan follow-ups for the silence that starts at `silence_from` (replacing any earlier plan). */
  | { kind: 'schedule_follow_up'; silence_from: number }
  /** Route ai: ask the responder for a reply and send it. */
  | { kind: 'auto_reply' }
  /** Route hybrid: ask the responder for a reply and store it as a draft for a human. */
  | { kind: 'draft_reply' }
  /** Update the contact's opt-out flag. */
  | { kind: 'set_opt_out'; opted_out: boolean; keyword: string | null }
  | { kind: 'cancel_campaign_sends' };

export interface Analysis {
  classification?: Classification;
  score?: Score;
  escalation?: EscalationDecision;
  opt?: OptDecision;
}

export type TransitionResult =
  | {
      ok: true;
      next: ConversationFacts;
      /** True when the event started a new conversation (the old one, if any, stays as it was). */
      started_new: boolean;
      transitions: TransitionRecord[];
      effects: Effect[];
      analysis: Analysis;
    }
  | { ok: false; code: 'invalid_state'; message: string };

/** Message types that are not the customer talking: they change no state and open no window. */
export const PASSIVE_MESSAGE_TYPES: ReadonlySet<string> = new Set(['reaction', 'system', 'edit', 'revoke']);

class Draft {
  readonly transitions: TransitionRecord[] = [];
  readonly effects: Effect[] = [];
  readonly analysis: Analysis = {};
  startedNew = false;

  constructor(
    public facts: ConversationFacts,
    private readonly now: number,
  ) {}

  move(to: QueueState, reason: string, actor: string): void {
    this.transitions.push({ from: this.facts.queue_state, to, reason, actor, at: this.now });
    this.facts = { ...this.facts, queue_state: to };
  }

  effect(e: Effect): void {
    if (e.kind === 'cancel_follow_ups' && this.effects.some((x) => x.kind === 'cancel_follow_ups')) return;
    this.effects.push(e);
  }

  result(): TransitionResult {
    return {
      ok: true,
      next: this.facts,
      started_new: this.startedNew,
      transitions: this.transitions,
      effects: this.effects,
      analysis: this.analysis,
    };
  }
}

function refuse(message: string): TransitionResult {
  return { ok: false, code: 'invalid_state', message };
}

function unchanged(conv: ConversationFacts, now: number): TransitionResult {
  return new Draft(conv, now).result();
}

/** Facts of a conversation that a customer message starts. */
export function newConversation(
  classification: Classification,
  at: number,
  optedOut: boolean,
): ConversationFacts {
  return {
    queue_state: 'open',
    assigned_route: classification.route,
    conversation_class: classification.class,
    priority: classification.priority,
    opted_out: optedOut,
    opened_at: at,
    last_customer_message_at: null,
    last_business_message_at: null,
    closed_at: null,
    closed_reason: null,
    escalation_reason: null,
    ...ZERO_TURNS,
  };
}

function escalate(d: Draft, decision: EscalationDecision, actor: string): void {
  d.analysis.escalation = decision;
  d.move('escalated', `escalation: ${decision.reason}`, actor);
  d.facts = { ...d.facts, assigned_route: ESCALATION_ROUTE, escalation_reason: decision.reason };
  d.effect({ kind: 'cancel_follow_ups', reason: 'escalated' });
}

function close(d: Draft, reason: CloseReason, actor: string, now: number): void {
  d.move('closed', `closed: ${reason}`, actor);
  d.facts = { ...d.facts, closed_at: now, closed_reason: reason };
  d.effect({ kind: 'cancel_follow_ups', reason: `closed: ${reason}` });
}

function optOut(d: Draft, keyword: string | null, actor: string, now: number): void {
  d.facts = { ...d.facts, opted_out: true };
  d.effect({ kind: 'set_opt_out', opted_out: true, keyword });
  d.effect({ kind: 'cancel_follow_ups', reason: 'opt_out' });
  d.effect({ kind: 'cancel_campaign_sends' });
  if (d.facts.queue_state !== 'closed') close(d, 'opt_out', actor, now);
}

/** Reply effect for a conversation whose customer is waiting: send (ai), draft (hybrid), or nothing. */
function replyIfWaiting(d: Draft): void {
  const f = d.facts;
  if (f.queue_state !== 'open' || f.opted_out || f.unanswered_count === 0) return;
  if (f.assigned_route === 'ai') d.effect({ kind: 'auto_reply' });
  else if (f.assigned_route === 'hybrid') d.effect({ kind: 'draft_reply' });
}

function onCustomerMessage(
  conv: ConversationFacts | null,
  ev: Extract<ConversationEvent, { type: 'customer_message' }>,
  now: number,
  config: EngineConfig,
): TransitionResult {
  if (PASSIVE_MESSAGE_TYPES.has(ev.message_type)) {
    if (conv === null) return refuse(`a ${ev.message_type} message does not start a conversation`);
    return unchanged(conv, now);
  }
  const opt = decideOpt(ev.text, config.opt_out);
  const closedAt = conv?.closed_at ?? Number.NEGATIVE_INFINITY;
  const reopenable = conv?.queue_state === 'closed' && ev.at - closedAt < config.conversations.reopen_within;

  let d: Draft;
  if (conv?.queue_state === 'closed' && opt?.kind === 'opt_out') {
    // STOP after the conversation ended: record it, but do not reopen or start one just to close it.
    d = new Draft(conv, now);
    d.analysis.opt = opt;
    optOut(d, opt.hit.keyword, 'customer', now);
    return d.result();
  }
  if (conv === null || (conv.queue_state === 'closed' && !reopenable)) {
    const classification = classify(ev, config);
    d = new Draft(newConversation(classification, ev.at, conv?.opted_out ?? false), now);
    d.startedNew = true;
    d.analysis.classification = classification;
    d.transitions.push({ from: null, to: 'open', reason: 'new_conversation', actor: 'customer', at: now });
  } else {
    d = new Draft(conv, now);
    if (conv.queue_state === 'closed') {
      d.move('open', 'reopened', 'customer');
      d.facts = { ...d.facts, closed_at: null, closed_reason: null, escalation_reason: null };
    } else if (conv.queue_state === 'pending') {
      d.move('open', 'customer_message', 'customer');
      d.effect({ kind: 'cancel_follow_ups', reason: 'customer replied' });
    }
  }

  const last = d.facts.last_customer_message_at;
  d.facts = countCustomerMessage({
    ...d.facts,
    last_customer_message_at: last === null ? ev.at : Math.max(last, ev.at),
  });

  if (opt) {
    d.analysis.opt = opt;
    if (opt.kind === 'opt_out') {
      optOut(d, opt.hit.keyword, 'customer', now);
    } else if (d.facts.opted_out) {
      d.facts = { ...d.facts, opted_out: false };
      d.effect({ kind: 'set_opt_out', opted_out: false, keyword: opt.hit.keyword });
    }
    // A keyword is a command, not a question: no escalation check and no reply.
    return d.result();
  }

  if (ev.text) d.analysis.score = scoreText(ev.text, config.scorer.languages);
  if (d.facts.queue_state === 'open') {
    const decision = evaluateMessageEscalation(
      { text: ev.text, unanswered_count: d.facts.unanswered_count, score: d.analysis.score },
      config.escalation,
      config.scorer.languages,
    );
    if (decision) escalate(d, decision, 'system');
  }
  replyIfWaiting(d);
  return d.result();
}

function onBusinessMessage(
  conv: ConversationFacts,
  ev: Extract<ConversationEvent, { type: 'business_message_sent' }>,
  now: number,
): TransitionResult {
  const d = new Draft(conv, now);
  const last = conv.last_business_message_at;
  d.facts = countBusinessReply({
    ...conv,
    last_business_message_at: last === null ? ev.at : Math.max(last, ev.at),
  });
  if (conv.queue_state === 'open') d.move('pending', 'business_message', ev.actor ?? 'business');
  // A follow-up is itself part of the plan for this silence; re-planning on it would loop.
  if (d.facts.queue_state === 'pending' && ev.source !== 'follow_up') {
    d.effect({ kind: 'schedule_follow_up', silence_from: ev.at });
  }
  return d.result();
}

function onRoute(
  conv: ConversationFacts,
  ev: Extract<ConversationEvent, { type: 'route' }>,
  now: number,
): TransitionResult {
  const actor = ev.actor ?? 'system';
  const state = conv.queue_state;
  if (state === 'closed')
    return refuse('a closed conversation cannot be routed; it reopens when the customer writes');
  const d = new Draft(conv, now);
  if (state === 'escalated') {
    // Routing is how a human hands an escalated conversation back (SPEC §4).
    const to: QueueState = conv.unanswered_count > 0 ? 'open' : 'pending';
    d.move(to, `routed_to_${ev.to}`, actor);
    d.facts = { ...d.facts, assigned_route: ev.to, escalation_reason: null };
    if (to === 'pending') {
      d.effect({ kind: 'schedule_follow_up', silence_from: conv.last_business_message_at ?? now });
    }
  } else if (conv.assigned_route !== ev.to) {
    d.move(state, `routed_to_${ev.to}`, actor);
    d.facts = { ...d.facts, assigned_route: ev.to };
  } else {
    return d.result();
  }
  replyIfWaiting(d);
  return d.result();
}

function onClose(
  conv: ConversationFacts,
  ev: Extract<ConversationEvent, { type: 'close' }>,
  now: number,
  config: EngineConfig,
): TransitionResult {
  const actor = ev.actor ?? 'system';
  if (conv.queue_state === 'closed') return refuse('the conversation is already closed');
  const d = new Draft(conv, now);
  if (ev.reason === 'opt_out') {
    optOut(d, null, actor, now);
    return d.result();
  }
  if (ev.reason === 'idle') {
    if (conv.queue_state === 'escalated') {
      return refuse('an escalated conversation waits for a human; it is not closed for being idle');
    }
    const lastActivity = Math.max(
      conv.opened_at,
      conv.last_customer_message_at ?? Number.NEGATIVE_INFINITY,
      conv.last_business_message_at ?? Number.NEGATIVE_INFINITY,
    );
    if (now - lastActivity < config.conversations.close_after) {
      return refuse('the conversation had activity within close_after; it is not idle');
    }
  }
  close(d, ev.reason, actor, now);
  return d.result();
}

/**
 * Applies one event. `conv` is null when the customer has no conversation on this channel yet (only
 * a customer message is valid then). `now` is the engine's clock; message times come in the event.
 */
export function transition(
  conv: ConversationFacts | null,
  event: ConversationEvent,
  now: number,
  config: EngineConfig,
): TransitionResult {
  if (event.type === 'customer_message') return onCustomerMessage(conv, event, now, config);
  if (conv === null) return refuse(`"${event.type}" needs an existing conversation`);
  const state = conv.queue_state;
  switch (event.type) {
    case 'business_message_sent':
      return onBusinessMessage(conv, event, now);
    case 'escalate': {
      if (state === 'escalated') return refuse('the conversation is already escalated');
      if (state === 'closed') return refuse('a closed conversation cannot be escalated');
      const d = new Draft(conv, now);
      escalate(d, { rule: 'requested', reason: event.reason ?? 'requested' }, event.actor ?? 'system');
      return d.result();
    }
    case 'route':
      return onRoute(conv, event, now);
    case 'close':
      return onClose(conv, event, now, config);
    case 'sla_breach': {
      if (!isSlaBreached(conv, now, config.escalation)) {
        return refuse(
          'the SLA rule does not apply: the conversation is not open, routed human or hybrid, and unanswered past its SLA',
        );
      }
      const d = new Draft(conv, now);
      escalate(d, slaEscalation(config.escalation), 'system');
      return d.result();
    }
    case 'permanent_send_failure': {
      const decision = permanentFailureEscalation(config.escalation, event.error_code);
      if (!decision || (state !== 'open' && state !== 'pending')) return unchanged(conv, now);
      const d = new Draft(conv, now);
      escalate(d, decision, 'system');
      return d.result();
    }
    case 'opt_out': {
      const d = new Draft(conv, now);
      optOut(d, null, event.actor ?? 'system', now);
      return d.result();
    }
    case 'opt_in': {
      const d = new Draft(conv, now);
      if (conv.opted_out) {
        d.facts = { ...d.facts, opted_out: false };
        d.effect({ kind: 'set_opt_out', opted_out: false, keyword: null });
      }
      return d.result();
    }
    default: {
      const never: never = event;
      return refuse(`unknown event ${JSON.stringify((never as { type?: unknown }).type)}`);
    }
  }
}
