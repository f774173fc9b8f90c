// The insight rollups as a projection of the domain event log (SPEC §8, §11): one consumer that turns
// the facts producers record (insights/insight-facts.ts) into turns, minute/hour/
// day rollups and per-state conversation counts. It runs inside the transaction that appends the
// event (events/record-event.ts), so an insights answer always includes every committed change and
// the numbers are exactly what they were when producers wrote the rollups themselves.
import type { Config } from '../config/schema.js';
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

/** Where a conversation counts in conversation_state_counts. */
export interface StateKey {
  agent_id: number;
  queue_state: string;
  waiting: number;
}

/** The part of an event the projection reads. */
export interface ProjectedEvent {
  type: string;
  conversation_id: string | null;
  data: Record<string, unknown>;
}

async function agentOf(trx: Db, conversationId: string | null): Promise<number | null> {
  if (conversationId === null) return null;
  return (await conversationsRepo.get(trx, conversationId))?.agent_id ?? null;
}

export async function applyToRollups(trx: Db, event: ProjectedEvent, ctx: { ids: IdSource }): Promise<void> {
  const d = event.data;
  switch (event.type) {
    case 'insight.conversation_counted':
      return conversationCounted(
        trx,
        event.conversation_id as string,
        d as unknown as ConversationCounted,
        ctx,
      );
    case 'insight.silence_planned':
      await insightsRepo.bump(trx, rollupKeys(await agentOf(trx, event.conversation_id), d.point as number), {
        silences: 1,
      });
      return;
    case 'insight.silences_ended': {
      const agent = await agentOf(trx, event.conversation_id);
      for (const point of d.points as number[]) {
        await insightsRepo.bump(trx, rollupKeys(agent, point), { silences: -1 });
      }
      return;
    }
    case 'insight.silence_covered':
      await insightsRepo.bump(trx, rollupKeys(await agentOf(trx, event.conversation_id), d.point as number), {
        covered: 1,
      });
      return;
    case 'insight.campaign_sent': {
      const agent = await insightsRepo.campaignAgent(trx, d.campaign_id as string);
      const previous = d.previous_sent_at as number | null;
      if (previous !== null) {
        await insightsRepo.bump(trx, rollupKeys(agent, previous), { campaign_sent: -1 });
      }
      await insightsRepo.bump(trx, rollupKeys(agent, d.sent_at as number), { campaign_sent: 1 });
      return;
    }
    case 'insight.campaign_replied': {
      const agent = await insightsRepo.campaignAgent(trx, d.campaign_id as string);
      await insightsRepo.bump(trx, rollupKeys(agent, d.sent_at as number), { campaign_replied: 1 });
      return;
    }
  }
}

/** The data of `insight.conversation_counted` (insights/insight-facts.ts). */
export type ConversationCounted = {
  /** Null when the change started a new conversation. */
  before: StateKey | null;
  after: StateKey;
  /** A customer turn started at this time (its first message's timestamp). */
  turn_started_at: number | null;
  /** The open turn was answered by a business message accepted at this time. */
  turn_answered_at: number | null;
};

async function conversationCounted(
  trx: Db,
  conversationId: string,
  d: ConversationCounted,
  ctx: { ids: IdSource },
): Promise<void> {
  const from = d.before;
  const to = d.after;
  if (
    !from ||
    from.agent_id !== to.agent_id ||
    from.queue_state !== to.queue_state ||
    from.waiting !== to.waiting
  ) {
    await insightsRepo.moveStateCount(trx, from, to);
  }
  // A customer turn starts at its first message's timestamp (SPEC §8) ...
  if (d.turn_started_at !== null) {
    await insightsRepo.startTurn(trx, {
      id: ctx.ids.next(),
      conversation_id: conversationId,
      agent_id: to.agent_id,
      started_at: d.turn_started_at,
      answered_at: null,
      response_ms: null,
    });
    await insightsRepo.bump(trx, rollupKeys(to.agent_id, d.turn_started_at), { turns: 1 });
  }
  // ... and is answered by the first business message accepted after it; both count in the rows
  // of the turn's start.
  if (d.turn_answered_at !== null) {
    const at = d.turn_answered_at;
    const turn = await insightsRepo.openTurn(trx, conversationId);
    // A turn from before the rollups existed has no row; it is simply not counted.
    if (!turn) return;
    await insightsRepo.answerTurn(trx, turn, at);
    const keys = rollupKeys(turn.agent_id, turn.started_at);
    await insightsRepo.bump(trx, keys, { answered: 1 });
    const bucket = responseBucket(at - turn.started_at);
    await insightsRepo.updateHistograms(trx, keys, (hist) =>
      JSON.stringify(addToHistogram(JSON.parse(hist) as Histogram, bucket)),
    );
  }
}
