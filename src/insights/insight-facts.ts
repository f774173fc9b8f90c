// The facts the insight rollups are built from, recorded as internal events of the domain log by the
// services that see them happen: the conversation engine (turns, conversation states), the follow-up
// planner (a silence gets its first follow-up, silences end), the follow-up outcome (a silence
// covered) and the campaign recipient events (a send accepted, a reply attributed). The rollups
// themselves are written by one consumer (insights/insight-rollups.ts).
import type { Config } from '../config/schema.js';
import type { ConversationEvent } from '../conversations/state-machine.js';
import { type EventContext, recordEvent } from '../events/record-event.js';
import type { Db } from '../store/db.js';
import { insightsRepo } from '../store/insights-repo.js';
import { type ConversationCounted, type StateKey, silencePoint } from './insight-rollups.js';

/** The columns of a conversation the rollups follow. */
export interface ConversationCounters {
  id: string;
  agent_id: number | null;
  queue_state: string;
  unanswered_count: number;
  turns_total: number;
  turns_answered: number;
}

function stateKey(c: ConversationCounters): StateKey {
  return { agent_id: c.agent_id ?? 0, queue_state: c.queue_state, waiting: c.unanswered_count > 0 ? 1 : 0 };
}

function sameKey(a: StateKey | null, b: StateKey): boolean {
  return (
    a !== null && a.agent_id === b.agent_id && a.queue_state === b.queue_state && a.waiting === b.waiting
  );
}

/**
 * One engine event applied. `before` is null when the event started a new conversation (an older,
 * closed one stays as it was and keeps its place in the counts). Nothing is recorded when neither
 * the conversation's place in the counts nor its turns moved.
 */
export async function recordInsightEvent(
  trx: Db,
  before: ConversationCounters | null,
  after: ConversationCounters,
  event: ConversationEvent,
  ctx: EventContext,
): Promise<void> {
  const data: ConversationCounted = {
    before: before ? stateKey(before) : null,
    after: stateKey(after),
    turn_started_at:
      event.type === 'customer_message' && after.turns_total > (before?.turns_total ?? 0) ? event.at : null,
    turn_answered_at:
      event.type === 'business_message_sent' && after.turns_answered > (before?.turns_answered ?? 0)
        ? event.at
        : null,
  };
  if (sameKey(data.before, data.after) && data.turn_started_at === null && data.turn_answered_at === null)
    return;
  await recordEvent(trx, { type: 'insight.conversation_counted', conversation_id: after.id, data }, ctx);
}

/** A silence got its first follow-up row: it counts in the rows of its point. */
export async function recordSilencePlanned(
  trx: Db,
  first: { conversation_id: string; rule_id: string; silence_from: number; due_at: number },
  config: Pick<Config, 'follow_up_rules'>,
  ctx: EventContext,
): Promise<void> {
  await recordEvent(
    trx,
    {
      type: 'insight.silence_planned',
      conversation_id: first.conversation_id,
      data: { point: silencePoint(first, config) },
    },
    ctx,
  );
}

/**
 * Follow-ups of the conversation are about to be cancelled at `ctx.now` (the customer wrote, a new
 * silence began, escalation, close, opt-out): a silence whose point is still ahead never reached it.
 */
export async function recordSilencesEnding(
  trx: Db,
  conversationId: string,
  config: Pick<Config, 'follow_up_rules'>,
  ctx: EventContext,
): Promise<void> {
  const live = await insightsRepo.liveFirstFollowUps(trx, conversationId);
  const points = live.map((first) => silencePoint(first, config)).filter((point) => ctx.now < point);
  if (points.length === 0) return;
  await recordEvent(
    trx,
    { type: 'insight.silences_ended', conversation_id: conversationId, data: { points } },
    ctx,
  );
}

/** A follow-up was accepted by the API: the first one of its silence covers the silence. */
export async function recordFollowUpAccepted(
  trx: Db,
  followUp: { conversation_id: string; silence_from: number },
  config: Pick<Config, 'follow_up_rules'>,
  ctx: EventContext,
): Promise<void> {
  if ((await insightsRepo.sentInSilence(trx, followUp.conversation_id, followUp.silence_from)) !== 1) return;
  const first = await insightsRepo.firstOfSilence(trx, followUp.conversation_id, followUp.silence_from);
  if (!first) return;
  await recordEvent(
    trx,
    {
      type: 'insight.silence_covered',
      conversation_id: followUp.conversation_id,
      data: { point: silencePoint(first, config) },
    },
    ctx,
  );
}

/**
 * A campaign send was accepted at `ctx.now`: it counts at its send time. A recipient sent again (root
 * retried a send Meta failed after accepting it) moves from its earlier send time.
 */
export async function recordCampaignSendAccepted(
  trx: Db,
  recipient: { campaign_id: string; sent_at: number | null },
  ctx: EventContext,
): Promise<void> {
  await recordEvent(
    trx,
    {
      type: 'insight.campaign_sent',
      data: { campaign_id: recipient.campaign_id, sent_at: ctx.now, previous_sent_at: recipient.sent_at },
    },
    ctx,
  );
}

/** A reply was attributed to a campaign send (within the attribution window): counted at the send. */
export async function recordCampaignReply(
  trx: Db,
  recipient: { campaign_id: string; sent_at: number },
  ctx: EventContext,
): Promise<void> {
  await recordEvent(
    trx,
    {
      type: 'insight.campaign_replied',
      data: { campaign_id: recipient.campaign_id, sent_at: recipient.sent_at },
    },
    ctx,
  );
}
