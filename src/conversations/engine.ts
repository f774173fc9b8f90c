// The conversation engine as a service (SPEC §4): the only place that maps stored rows to the state
// machine's facts and back, records transitions, and carries out effects (follow-ups, responder
// jobs, opt-out, cancelling sends). Runs inside the caller's transaction and never calls the network:
// a reply is left as a responder job for the worker (responders/worker.ts).
// Over 300 lines on purpose: the one mapping between stored rows and the state machine, both ways; split, a transition and its effects would sit in two files.
import { skipOptedOutRecipients } from '../campaigns/recipient-events.js';
import type { Config } from '../config/schema.js';
import { noteConversationAgent, recordEvent } from '../events/record-event.js';
import { recordInsightEvent, recordSilencesEnding } from '../insights/insight-facts.js';
import { AppError } from '../lib/app-error.js';
import { toIso } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import { startSilence } from '../scheduler/follow-ups.js';
import { agentsRepo } from '../store/agents-repo.js';
import type { ContactRow } from '../store/contacts-repo.js';
import { contactsRepo } from '../store/contacts-repo.js';
import { conversationLogRepo } from '../store/conversation-log-repo.js';
import { type ConversationRow, conversationsRepo } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import { draftsRepo } from '../store/drafts-repo.js';
import { followUpsRepo } from '../store/follow-ups-repo.js';
import { outboxRepo } from '../store/outbox-repo.js';
import type { CloseReason, ConversationFacts } from './conversation.js';
import { supersedingReason } from './drafts.js';
import { type ConversationEvent, type Effect, type TransitionResult, transition } from './state-machine.js';
import { windowExpiresAt } from './window.js';

export interface EngineContext {
  ids: IdSource;
  now: number;
  config: Config;
}

export interface EngineInput {
  /** The customer's latest conversation on this channel (any state), or null when there is none. */
  conversation: ConversationRow | null;
  /**
   * True when `conversation` was read in this very transaction with conversationsRepo's ForUpdate
   * reads (locked on PostgreSQL) and nothing wrote it since: the engine uses it as it is instead of
   * reading it again. Left out, the engine re-reads the row.
   */
  conversationIsCurrent?: boolean;
  /**
   * True when the read of a current `conversation` found it has no pending draft
   * (store/inbound-hints.ts): the engine does not look again.
   */
  noPendingDrafts?: boolean;
  contact: ContactRow;
  phone_number_id: string;
  event: ConversationEvent;
}

export interface EngineOutcome {
  conversation_id: string;
  started_new: boolean;
  result: Extract<TransitionResult, { ok: true }>;
  /** What the caller should wake after its commit. */
  wake: { responder: boolean; sender: boolean };
}

export function toFacts(row: ConversationRow, contact: Pick<ContactRow, 'opted_out_at'>): ConversationFacts {
  return {
    queue_state: row.queue_state,
    assigned_route: row.assigned_route,
    conversation_class: row.conversation_class,
    priority: row.priority,
    opted_out: contact.opted_out_at !== null,
    opened_at: row.opened_at,
    last_customer_message_at: row.last_customer_message_at,
    last_business_message_at: row.last_business_message_at,
    closed_at: row.closed_at,
    closed_reason: row.closed_reason as CloseReason | null,
    escalation_reason: row.escalation_reason,
    turns_total: row.turns_total,
    turns_answered: row.turns_answered,
    unanswered_count: row.unanswered_count,
  };
}

/** The columns a state-machine result sets (opted_out lives on the contact). */
function factColumns(f: ConversationFacts) {
  return {
    queue_state: f.queue_state,
    assigned_route: f.assigned_route,
    conversation_class: f.conversation_class,
    priority: f.priority,
    opened_at: f.opened_at,
    last_customer_message_at: f.last_customer_message_at,
    last_business_message_at: f.last_business_message_at,
    closed_at: f.closed_at,
    closed_reason: f.closed_reason,
    escalation_reason: f.escalation_reason,
    turns_total: f.turns_total,
    turns_answered: f.turns_answered,
    unanswered_count: f.unanswered_count,
    window_expires_at: windowExpiresAt(f),
  };
}

/** Only the columns whose value differs from the row's: a write never restates what it did not change. */
function changedColumns<T extends Partial<ConversationRow>>(before: ConversationRow, next: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(next).filter(([key, value]) => value !== before[key as keyof ConversationRow]),
  ) as Partial<T>;
}

function eventTime(event: ConversationEvent): number | null {
  return event.type === 'customer_message' || event.type === 'business_message_sent' ? event.at : null;
}

/**
 * Applies one event to a customer's conversation: state machine, row, transition log, effects.
 * Throws AppError `invalid_state` (409) when the state machine refuses the event; nothing changes then.
 */
export async function applyConversationEvent(
  trx: Db,
  input: EngineInput,
  ctx: EngineContext,
): Promise<EngineOutcome> {
  const { contact, event } = input;
  // No fact is written from a stale read (SPEC §10): the caller's row may come from before this
  // transaction (the tick's SLA and idle candidates are read outside it, another instance may have
  // moved the conversation since), so the state machine runs on the row as it is now, locked until
  // commit on PostgreSQL (on SQLite the transaction's write lock serialises every writer).
  const before = input.conversation
    ? input.conversationIsCurrent
      ? input.conversation
      : ((await conversationsRepo.getForUpdate(trx, input.conversation.id)) ?? null)
    : null;
  const r = transition(before ? toFacts(before, contact) : null, event, ctx.now, ctx.config);
  if (!r.ok) throw new AppError('invalid_state', r.message);

  const at = eventTime(event);
  const score = r.analysis.score;
  let id: string;
  let row: ConversationRow;
  if (r.started_new || before === null) {
    id = ctx.ids.next();
    // The agent whose channel this is owns the conversation from its start (SPEC §4).
    const owner = await agentsRepo.findByPhoneNumberId(trx, input.phone_number_id);
    row = {
      id,
      phone_number_id: input.phone_number_id,
      contact_id: contact.id,
      agent_id: owner?.id ?? null,
      campaign_id: null,
      intent: score?.intent ?? null,
      sentiment: score?.sentiment ?? null,
      updated_at: ctx.now,
      last_message_at: at ?? ctx.now,
      pending_outbound: 0,
      ...factColumns(r.next),
    };
    await conversationsRepo.insert(trx, row);
  } else {
    id = before.id;
    const patch = {
      ...changedColumns(before, factColumns(r.next)),
      updated_at: ctx.now,
      ...(at !== null ? { last_message_at: Math.max(before.last_message_at, at) } : {}),
      ...(score ? { intent: score.intent, sentiment: score.sentiment } : {}),
    };
    // Only the columns that change: every indexed column set is an index entry rewritten.
    await conversationsRepo.update(trx, id, changedColumns(before, patch));
    row = { ...before, ...patch };
  }
  await noteConversationAgent(trx, id, row.agent_id);
  // A group's conversation is kept out of the one-to-one figures (SPEC §3a).
  const group = contact.group_id !== null && contact.group_id !== undefined;
  const startedNew = r.started_new || before === null;
  if (!group) await recordInsightEvent(trx, startedNew ? null : before, row, event, ctx);
  await recordConversationEvents(trx, startedNew ? null : before, row, r, ctx);

  await conversationLogRepo.addTransitions(
    trx,
    r.transitions.map((t) => ({
      id: ctx.ids.next(),
      conversation_id: id,
      from_state: t.from,
      to_state: t.to,
      reason: t.reason,
      actor: t.actor,
      at: t.at,
    })),
  );

  // Drafts waiting for a human are stale once the customer wrote again or a human answered otherwise.
  const stale = before ? supersedingReason(event) : null;
  const noDrafts = input.conversationIsCurrent === true && input.noPendingDrafts === true;
  if (before && stale && !noDrafts) {
    for (const draftId of await draftsRepo.supersedePending(trx, before.id, stale, ctx.now)) {
      await recordEvent(
        trx,
        {
          type: 'draft.resolved',
          conversation_id: before.id,
          data: { draft_id: draftId, resolution: 'superseded', reason: stale },
        },
        ctx,
      );
    }
  }

  const wake = { responder: false, sender: false };
  for (const effect of r.effects) {
    // A group is never answered automatically, and no follow-up chases a group's silence.
    if (group && GROUP_SKIPS.has(effect.kind)) continue;
    await carryOut(trx, effect, row, contact, ctx, wake);
  }
  return { conversation_id: id, started_new: r.started_new || before === null, result: r, wake };
}

const GROUP_SKIPS: ReadonlySet<Effect['kind']> = new Set(['auto_reply', 'draft_reply', 'schedule_follow_up']);

/**
 * The public events of one applied engine event (SPEC §11): a new conversation, each queue-state
 * transition (with escalated / closed spelled out), a route change.
 */
async function recordConversationEvents(
  trx: Db,
  before: ConversationRow | null,
  row: ConversationRow,
  r: Extract<TransitionResult, { ok: true }>,
  ctx: EngineContext,
): Promise<void> {
  const conversation_id = row.id;
  if (before === null) {
    await recordEvent(
      trx,
      {
        type: 'conversation.opened',
        conversation_id,
        data: {
          phone_number_id: row.phone_number_id,
          contact_id: row.contact_id,
          queue_state: row.queue_state,
          assigned_route: row.assigned_route,
          conversation_class: row.conversation_class,
          priority: row.priority,
        },
      },
      ctx,
    );
  }
  for (const t of r.transitions) {
    if (t.from === null || t.from === t.to) continue;
    const data = {
      from: t.from,
      to: t.to,
      reason: t.reason,
      actor: t.actor,
      at: toIso(t.at),
    };
    await recordEvent(trx, { type: 'conversation.state_changed', conversation_id, data }, ctx);
    if (t.to === 'escalated') {
      await recordEvent(
        trx,
        {
          type: 'conversation.escalated',
          conversation_id,
          data: { ...data, reason: row.escalation_reason ?? t.reason },
        },
        ctx,
      );
    } else if (t.to === 'closed') {
      await recordEvent(
        trx,
        {
          type: 'conversation.closed',
          conversation_id,
          data: { ...data, reason: row.closed_reason ?? t.reason },
        },
        ctx,
      );
    }
  }
  if (before !== null && before.assigned_route !== row.assigned_route) {
    await recordEvent(
      trx,
      {
        type: 'conversation.routed',
        conversation_id,
        data: {
          from: before.assigned_route,
          to: row.assigned_route,
          conversation_class: row.conversation_class,
        },
      },
      ctx,
    );
  }
}

async function carryOut(
  trx: Db,
  effect: Effect,
  row: ConversationRow,
  contact: ContactRow,
  ctx: EngineContext,
  wake: EngineOutcome['wake'],
): Promise<void> {
  switch (effect.kind) {
    case 'cancel_follow_ups': {
      await recordSilencesEnding(trx, row.id, ctx.config, ctx);
      const outboxIds = await followUpsRepo.cancelLive(trx, row.id, effect.reason, ctx.now);
      await outboxRepo.cancelQueued(trx, outboxIds, `follow-up cancelled: ${effect.reason}`, ctx.now);
      return;
    }
    case 'schedule_follow_up':
      await startSilence(trx, row, effect.silence_from, ctx);
      return;
    case 'auto_reply':
    case 'draft_reply':
      await conversationLogRepo.addResponderJob(trx, {
        id: ctx.ids.next(),
        conversation_id: row.id,
        mode: effect.kind === 'auto_reply' ? 'reply' : 'draft',
        state: 'pending',
        attempts: 0,
        outcome: null,
        created_at: ctx.now,
        updated_at: ctx.now,
      });
      wake.responder = true;
      return;
    case 'set_opt_out':
      await recordEvent(
        trx,
        {
          type: effect.opted_out ? 'contact.opted_out' : 'contact.opted_in',
          conversation_id: row.id,
          data: { contact_id: contact.id, wa_id: contact.wa_id, keyword: effect.keyword },
        },
        ctx,
      );
      await contactsRepo.update(
        trx,
        contact.id,
        effect.opted_out
          ? { opted_out_at: ctx.now, updated_at: ctx.now }
          : { opted_out_at: null, opted_in_at: ctx.now, updated_at: ctx.now },
      );
      return;
    case 'cancel_campaign_sends':
      await cancelCampaignSends(trx, contact.id, ctx);
      return;
  }
}

/**
 * Opt-out (SPEC §4): the contact's queued automated sends stop, and their recipients in every
 * campaign become `skipped_opted_out`.
 */
async function cancelCampaignSends(trx: Db, contactId: string, ctx: EngineContext): Promise<void> {
  await outboxRepo.cancelQueuedForContact(
    trx,
    contactId,
    ['campaign', 'follow_up', 'reply'],
    'opted out',
    ctx.now,
  );
  await skipOptedOutRecipients(trx, contactId, ctx.now);
}
