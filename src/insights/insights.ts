// ExtensionRuntimeInsight (SPEC §8) for one agent or every agent ("*") over the window W ending now.
// Everything is read from rollups kept current as events happen (store/insights-repo.ts): W as whole
// days, hours and minutes from insight_rollups, the under-a-minute rest at each end from the turns,
// follow-ups and campaign recipients themselves, conversation counts from conversation_state_counts,
// unsent outbound from outbound_pending_counts. Nothing here scans message history, and the rows read
// do not grow with traffic (bar the exact percentiles: at most EXACT_PERCENTILE_LIMIT turns).
// Over 300 lines: one metric document assembled from one set of window pieces; each metric's reading
// depends on the same pieces and histograms.

import { findAgentByUuid } from '../agents/agents.js';
import type { Config } from '../config/schema.js';
import { AppError } from '../lib/app-error.js';
import { toIso } from '../lib/clock.js';
import type { RuntimeHealthView } from '../runtime/health.js';
import type { Db } from '../store/db.js';
import { type AgentScope, insightsRepo, type RollupRange, type RollupRow } from '../store/insights-repo.js';
import {
  addHistogramJson,
  bucketCounts,
  ceilHour,
  countsPercentileSeconds,
  floorHour,
  HOUR_MS,
  percentileSeconds,
  ratio,
  responseBucket,
  summarySentence,
  type WindowPiece,
  windowPieces,
} from './insight-math.js';
import { ALL_AGENTS, silencePoint } from './insight-rollups.js';

/** Up to this many answered turns in W, percentiles are exact; above, read from the histogram. */
export const EXACT_PERCENTILE_LIMIT = 5000;

export interface InsightDeps {
  db: Db;
  now: number;
  config: Config;
  health: RuntimeHealthView;
  /** Inbox rows waiting to be processed (a cached count). */
  backlog: () => Promise<number>;
  /** Overrides EXACT_PERCENTILE_LIMIT (tests reach the histogram path with few turns). */
  exactPercentileLimit?: number;
}

export interface InsightQuery {
  agent_uuid?: string;
  window_ms: number;
  window: string;
  trend?: 'hour';
}

export interface TrendBucket {
  start: string;
  end: string;
  customer_turns: number;
  answered_turns: number;
  reply_rate: number | null;
}

export interface ExtensionRuntimeInsight {
  extension_slug: 'native-whatsapp';
  platform: 'whatsapp';
  agent_uuid: string;
  status: 'active' | 'degraded' | 'paused';
  summary: string;
  metrics: {
    reply_rate: number | null;
    queue_pressure: number;
    conversations_active: number;
    conversations_open: number;
    conversations_pending: number;
    conversations_escalated: number;
    customer_turns: number;
    answered_turns: number;
    first_response_p50_seconds: number | null;
    first_response_p90_seconds: number | null;
    first_response_exact: boolean;
    follow_up_coverage: number | null;
    campaign_response_rate: number | null;
    unanswered_conversations: number;
    outbound_pending: number;
  };
  controls: {
    automation_mode: 'assisted' | 'autonomous' | 'priority';
    access_tier: 'standard' | 'root';
  };
  status_reasons: string[];
  window: string;
  window_start: string;
  updated_at: string;
  trend?: TrendBucket[];
}

export async function computeInsight(deps: InsightDeps, q: InsightQuery): Promise<ExtensionRuntimeInsight> {
  const { db, now, config } = deps;
  let scope: AgentScope = { all: true };
  let agentPnid: string | null = null;
  if (q.agent_uuid !== undefined) {
    const agent = await findAgentByUuid(db, q.agent_uuid);
    if (!agent)
      throw new AppError('not_found', `no agent with uuid ${JSON.stringify(q.agent_uuid.slice(0, 100))}`);
    scope = { agent_id: agent.id };
    agentPnid = agent.phone_number_id;
  }
  const start = now - q.window_ms;

  // Conversations by state, and those whose last customer turn waits for an answer.
  const counts = { open: 0, pending: 0, escalated: 0, closed: 0 };
  let waiting = 0;
  for (const r of await insightsRepo.stateCounts(db, scope)) {
    if (r.queue_state in counts) counts[r.queue_state as keyof typeof counts] += r.n;
    if (r.waiting === 1 && r.queue_state !== 'closed') waiting += r.n;
  }
  const outboundPending = await insightsRepo.outboundPending(db, scope, agentPnid);

  // W = [start, now], its end included. Whole days, hours and minutes come from the rollups (one
  // statement); what is left at each end, under a minute, from the rows themselves.
  const agentKey = 'agent_id' in scope ? scope.agent_id : ALL_AGENTS;
  const pieces = windowPieces(start, now + 1);
  const raw = pieces.filter((p) => p.period === 'raw');
  const rolled = await insightsRepo.rollupsIn(
    db,
    agentKey,
    pieces.filter((p): p is RollupRange => p.period !== 'raw'),
    true,
  );
  const edgeTurns = await insightsRepo.turnsIn(db, scope, raw);

  let turns = 0;
  let answered = 0;
  let silences = 0;
  let covered = 0;
  let campaignSent = 0;
  let campaignReplied = 0;
  for (const r of rolled) {
    turns += r.turns;
    answered += r.answered;
    silences += r.silences;
    covered += r.covered;
    campaignSent += r.campaign_sent;
    campaignReplied += r.campaign_replied;
  }
  const edgeResponses: number[] = [];
  for (const t of edgeTurns) {
    turns += 1;
    if (t.response_ms !== null) {
      answered += 1;
      edgeResponses.push(t.response_ms);
    }
  }

  let p50: number | null;
  let p90: number | null;
  // Exact percentiles read every turn of W; past the limit the rollups' histograms answer instead.
  const exact = turns <= (deps.exactPercentileLimit ?? EXACT_PERCENTILE_LIMIT);
  if (exact) {
    const responses = rolled.length > 0 ? await answeredResponses(db, scope, start, now) : edgeResponses;
    responses.sort((x, y) => x - y);
    p50 = percentileSeconds(responses, 0.5);
    p90 = percentileSeconds(responses, 0.9);
  } else {
    // Histograms are read only here: in exact mode they are not needed.
    const merged = bucketCounts();
    for (const r of rolled) addHistogramJson(merged, r.response_hist);
    for (const ms of edgeResponses) {
      const bucket = responseBucket(ms);
      merged[bucket] = (merged[bucket] as number) + 1;
    }
    p50 = countsPercentileSeconds(merged, 0.5);
    p90 = countsPercentileSeconds(merged, 0.9);
  }

  const edge = await edgeSilences(db, scope, config, raw);
  silences += edge.silences;
  covered += edge.covered;
  const coverage = ratio(covered, silences);
  const edgeSends = await insightsRepo.campaignSends(db, scope, raw);
  const campaign = ratio(campaignReplied + edgeSends.replied, campaignSent + edgeSends.sent);

  const reasons = [...deps.health.reasons];
  const backlog = await deps.backlog();
  if (backlog > config.inbox.backlog_threshold) {
    reasons.push(
      `${backlog} webhook deliveries wait to be processed (threshold ${config.inbox.backlog_threshold})`,
    );
  }
  const status = config.runtime.status === 'paused' ? 'paused' : reasons.length > 0 ? 'degraded' : 'active';
  const active = counts.open + counts.pending + counts.escalated;
  const replyRate = ratio(answered, turns);
  const queuePressure = waiting + outboundPending;

  const insight: ExtensionRuntimeInsight = {
    extension_slug: 'native-whatsapp',
    platform: 'whatsapp',
    agent_uuid: q.agent_uuid ?? '*',
    status,
    summary: summarySentence({
      status,
      window: q.window,
      turns,
      reply_rate: replyRate,
      first_response_p50_seconds: p50,
      conversations_active: active,
      queue_pressure: queuePressure,
      reasons,
    }),
    metrics: {
      reply_rate: replyRate,
      queue_pressure: queuePressure,
      conversations_active: active,
      conversations_open: counts.open,
      conversations_pending: counts.pending,
      conversations_escalated: counts.escalated,
      customer_turns: turns,
      answered_turns: answered,
      first_response_p50_seconds: p50,
      first_response_p90_seconds: p90,
      first_response_exact: exact,
      follow_up_coverage: coverage,
      campaign_response_rate: campaign,
      unanswered_conversations: waiting,
      outbound_pending: outboundPending,
    },
    controls: { automation_mode: config.runtime.automation_mode, access_tier: config.runtime.access_tier },
    status_reasons: reasons,
    window: q.window,
    window_start: toIso(start),
    updated_at: toIso(now),
  };
  if (q.trend === 'hour') {
    // Hourly buckets: whole hours from the hour rows, the partial hours at both ends from the minute
    // rows and raw turns already read (every one of them lies before firstFull or from lastFull on).
    const firstFull = ceilHour(start);
    const lastFull = floorHour(now);
    const hours = await insightsRepo.rollups(db, agentKey, 'h', firstFull, lastFull, false);
    const head = { turns: 0, answered: 0 };
    const tail = { turns: 0, answered: 0 };
    for (const r of rolled) {
      const side = r.start < firstFull ? head : r.start >= lastFull ? tail : null;
      if (side && r.period !== 'd') {
        side.turns += r.turns;
        side.answered += r.answered;
      }
    }
    for (const t of edgeTurns) {
      const side = t.started_at < firstFull ? head : tail;
      side.turns += 1;
      if (t.response_ms !== null) side.answered += 1;
    }
    insight.trend = trend(hours, head, tail, start, firstFull, lastFull, now);
  }
  return insight;
}

/** Response times of the turns started in [from, to] that were answered (exact mode: ≤ the limit). */
async function answeredResponses(db: Db, scope: AgentScope, from: number, to: number): Promise<number[]> {
  const rows = await insightsRepo.turnsBetween(db, scope, from, to + 1);
  return rows.flatMap((r) => (r.response_ms === null ? [] : [Number(r.response_ms)]));
}

/**
 * Silences whose point (their start + the first applicable follow-up's `after`) fell in the ranges
 * with the customer still silent, and how many a follow-up accepted by the API covered (SPEC §8).
 * Used for the under-a-minute ends of the window; the rest comes from the rollups. A point in
 * [from, to) means a start in [from - after, to - after) for the silence's rule: one short range
 * per distinct `after`, so the follow-ups read stay a minute's worth whatever the rules' spread.
 */
async function edgeSilences(
  db: Db,
  scope: AgentScope,
  config: Config,
  ranges: WindowPiece[],
): Promise<{ silences: number; covered: number }> {
  const afters = [...new Set(config.follow_up_rules.map((r) => r.after))];
  if (afters.length === 0 || ranges.length === 0) return { silences: 0, covered: 0 };
  const rows = await insightsRepo.firstFollowUps(
    db,
    scope,
    ranges.flatMap((r) => afters.map((after) => ({ from: r.from - after, to: r.to - after }))),
  );
  let silences = 0;
  let covered = 0;
  for (const r of rows) {
    const point = silencePoint(r, config);
    if (!ranges.some((x) => point >= x.from && point < x.to)) continue;
    // Cancelled before the point: the customer wrote, a new silence began, or it was escalated or closed.
    if (r.state === 'cancelled' && r.updated_at < point) continue;
    silences += 1;
    if (r.covered === 1) covered += 1;
  }
  return { silences, covered };
}

type EdgeCounts = { turns: number; answered: number };

function trend(
  hours: RollupRow[],
  head: EdgeCounts,
  tail: EdgeCounts,
  start: number,
  firstFull: number,
  lastFull: number,
  now: number,
): TrendBucket[] {
  const bucket = (from: number, to: number, t: number, a: number): TrendBucket => ({
    start: toIso(from),
    end: toIso(to),
    customer_turns: t,
    answered_turns: a,
    reply_rate: ratio(a, t),
  });
  const out: TrendBucket[] = [];
  if (start < firstFull) out.push(bucket(start, firstFull, head.turns, head.answered));
  const byHour = new Map(hours.map((h) => [h.start, h]));
  for (let h = firstFull; h < lastFull; h += HOUR_MS) {
    const r = byHour.get(h);
    out.push(bucket(h, h + HOUR_MS, r?.turns ?? 0, r?.answered ?? 0));
  }
  const last = out[out.length - 1];
  if (lastFull < now || !last) out.push(bucket(lastFull, now, tail.turns, tail.answered));
  else if (tail.turns > 0) {
    // W includes its end: turns started exactly at `now` on an hour boundary join the last bucket.
    out[out.length - 1] = bucket(
      Date.parse(last.start),
      Date.parse(last.end),
      last.customer_turns + tail.turns,
      last.answered_turns + tail.answered,
    );
  }
  return out;
}
