// Keeps the insights rollups current as events happen (SPEC §8: counters and rollups instead of
// scanning history per request). Called inside the caller's transaction by the conversation engine
// (turns, conversation states), the follow-up planner (a silence gets its first follow-up), the
// places that cancel follow-ups, the sender (a follow-up accepted by the API) and the campaign
// recipient events (a send accepted, a reply attributed).
import type { Config } from '../config/schema.js';
import type { ConversationEvent } from '../conversations/state-machine.js';
import type { IdSource } from '../lib/ids.js';
import { conversationsRepo } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import { insightsRepo, type RollupKey } from '../store/insights-repo.js';
import {
  addToHistogram,
  DAY_MS,
  floorDay,
  floorHour,
  floorMinute,
  type Histogram,
  responseBucket,
} from './insight-math.js';

/** Rollup rows of every agent together. */
export const ALL_AGENTS = -1;

/** The columns of a conversation the rollups follow. */
export interface ConversationCounters {
  id: string;
  agent_id: number | null;
  queue_state: string;
  unanswered_count: number;
  turns_total: number;
  turns_answered: number;
}

/**
 * Minute rows are read only at a window's two ends, and windows reach back 30 days at most
 * (http/routes/insights.ts); a day more is kept so a window's first minutes are never half pruned.
 */
export const MINUTE_ROLLUP_RETENTION_MS = 31 * DAY_MS;

/** The minute, hour and day rows of the agent and of every agent that an event at `at` counts in. */
export function rollupKeys(agentId: number | null, at: number): RollupKey[] {
  const minute = floorMinute(at);
  const hour = floorHour(at);
  const day = floorDay(at);
  const agent = agentId ?? 0;
  return [
    { agent_id: agent, period: 'm', start: minute },
    { agent_id: agent, period: 'h', start: hour },
    { agent_id: agent, period: 'd', start: day },
    { agent_id: ALL_AGENTS, period: 'm', start: minute },
    { agent_id: ALL_AGENTS, period: 'h', start: hour },
    { agent_id: ALL_AGENTS, period: 'd', start: day },
  ];
}

/** Housekeeping: drops minute rows past their retention, about `limit` at a time; returns how many. */
export async function pruneMinuteRollups(trx: Db, now: number, limit: number): Promise<number> {
  return insightsRepo.pruneMinuteRollups(trx, now - MINUTE_ROLLUP_RETENTION_MS, limit);
}

function stateKey(c: ConversationCounters) {
  return { agent_id: c.agent_id ?? 0, queue_state: c.queue_state, waiting: c.unanswered_count > 0 ? 1 : 0 };
}

/**
 * One engine event. `before` is null when the event started a new conversation (an older, closed
 * one stays as it was and keeps its place in the counts).
 */
export async function recordInsightEvent(
  trx: Db,
  before: ConversationCounters | null,
  after: ConversationCounters,
  event: ConversationEvent,
  ctx: { ids: IdSource },
): Promise<void> {
  const from = before ? stateKey(before) : null;
  const to = stateKey(after);
  if (
    !from ||
    from.agent_id !== to.agent_id ||
    from.queue_state !== to.queue_state ||
    from.waiting !== to.waiting
  ) {
    await insightsRepo.moveStateCount(trx, from, to);
  }

  // A customer turn starts at its first message's timestamp (SPEC §8) ...
  if (event.type === 'customer_message' && after.turns_total > (before?.turns_total ?? 0)) {
    await insightsRepo.startTurn(trx, {
      id: ctx.ids.next(),
      conversation_id: after.id,
      agent_id: after.agent_id ?? 0,
      started_at: event.at,
      answered_at: null,
      response_ms: null,
    });
    await insightsRepo.bump(trx, rollupKeys(after.agent_id, event.at), { turns: 1 });
  }

  // ... and is answered by the first business message accepted after it; both count in the rows
  // of the turn's start.
  if (event.type === 'business_message_sent' && after.turns_answered > (before?.turns_answered ?? 0)) {
    const turn = await insightsRepo.openTurn(trx, after.id);
    // A turn from before the rollups existed has no row; it is simply not counted.
    if (!turn) return;
    await insightsRepo.answerTurn(trx, turn, event.at);
    const keys = rollupKeys(turn.agent_id, turn.started_at);
    await insightsRepo.bump(trx, keys, { answered: 1 });
    const bucket = responseBucket(event.at - turn.started_at);
    await insightsRepo.updateHistograms(trx, keys, (hist) =>
      JSON.stringify(addToHistogram(JSON.parse(hist) as Histogram, bucket)),
    );
  }
}

/**
 * The point a silence reaches when its customer stays quiet: its start plus the `after` of its first
 * applicable follow-up rule (the stored due time when the rule is gone from the config).
 */
export function silencePoint(
  first: { rule_id: string; silence_from: number; due_at: number },
  config: Pick<Config, 'follow_up_rules'>,
): number {
  const rule = config.follow_up_rules.find((r) => r.id === first.rule_id);
  return first.silence_from + (rule ? rule.after : first.due_at - first.silence_from);
}

async function agentOf(trx: Db, conversationId: string): Promise<number | null> {
  return (await conversationsRepo.get(trx, conversationId))?.agent_id ?? null;
}

/** A silence got its first follow-up row: it counts in the rows of its point. */
export async function recordSilencePlanned(
  trx: Db,
  first: { conversation_id: string; rule_id: string; silence_from: number; due_at: number },
  config: Pick<Config, 'follow_up_rules'>,
): Promise<void> {
  const point = silencePoint(first, config);
  await insightsRepo.bump(trx, rollupKeys(await agentOf(trx, first.conversation_id), point), { silences: 1 });
}

/**
 * Follow-ups of the conversation are about to be cancelled at `now` (the customer wrote, a new
 * silence began, escalation, close, opt-out): a silence whose point is still ahead never reached it.
 */
export async function recordSilencesEnding(
  trx: Db,
  conversationId: string,
  now: number,
  config: Pick<Config, 'follow_up_rules'>,
): Promise<void> {
  const live = await insightsRepo.liveFirstFollowUps(trx, conversationId);
  if (live.length === 0) return;
  const agent = await agentOf(trx, conversationId);
  for (const first of live) {
    const point = silencePoint(first, config);
    if (now < point) await insightsRepo.bump(trx, rollupKeys(agent, point), { silences: -1 });
  }
}

/** A follow-up was accepted by the API: the first one of its silence covers the silence. */
export async function recordFollowUpAccepted(
  trx: Db,
  followUp: { conversation_id: string; silence_from: number },
  config: Pick<Config, 'follow_up_rules'>,
): Promise<void> {
  if ((await insightsRepo.sentInSilence(trx, followUp.conversation_id, followUp.silence_from)) !== 1) return;
  const first = await insightsRepo.firstOfSilence(trx, followUp.conversation_id, followUp.silence_from);
  if (!first) return;
  const point = silencePoint(first, config);
  await insightsRepo.bump(trx, rollupKeys(await agentOf(trx, followUp.conversation_id), point), {
    covered: 1,
  });
}

/**
 * A campaign send was accepted at `now`: it counts in the rows of its send time. A recipient sent
 * again (root retried a send Meta failed after accepting it) moves from its earlier send time.
 */
export async function recordCampaignSendAccepted(
  trx: Db,
  recipient: { campaign_id: string; sent_at: number | null },
  now: number,
): Promise<void> {
  const agent = await insightsRepo.campaignAgent(trx, recipient.campaign_id);
  if (recipient.sent_at !== null) {
    await insightsRepo.bump(trx, rollupKeys(agent, recipient.sent_at), { campaign_sent: -1 });
  }
  await insightsRepo.bump(trx, rollupKeys(agent, now), { campaign_sent: 1 });
}

/** A reply was attributed to a campaign send (within the attribution window): counted at the send. */
export async function recordCampaignReply(
  trx: Db,
  recipient: { campaign_id: string; sent_at: number },
): Promise<void> {
  const agent = await insightsRepo.campaignAgent(trx, recipient.campaign_id);
  await insightsRepo.bump(trx, rollupKeys(agent, recipient.sent_at), { campaign_replied: 1 });
}
