// What the overview page shows: the insight for the chosen window and agent, computed by the same
// service as GET .../runtime/insights (so the numbers are the API's), and a trend of the same
// measures over equal buckets of that window (each bucket is the insight over that bucket alone).
import type { AppDeps } from '../app-deps.js';
import type { BacklogProbe } from '../inbox/backlog-probe.js';
import { computeInsight, type ExtensionRuntimeInsight, type InsightDeps } from '../insights/insights.js';

const HOUR = 3_600_000;

export const WINDOWS = {
  '24h': { ms: 24 * HOUR, buckets: 24 },
  '7d': { ms: 7 * 24 * HOUR, buckets: 14 },
  '30d': { ms: 30 * 24 * HOUR, buckets: 15 },
} as const;
export type WindowKey = keyof typeof WINDOWS;

export function windowKey(value: string | undefined): WindowKey {
  return value !== undefined && value in WINDOWS ? (value as WindowKey) : '24h';
}

export interface TrendPoint {
  start: number;
  end: number;
  customer_turns: number;
  unanswered_turns: number;
  reply_rate: number | null;
  p50: number | null;
  p90: number | null;
  follow_up_coverage: number | null;
  campaign_response_rate: number | null;
}

export interface OverviewData {
  insight: ExtensionRuntimeInsight;
  trend: TrendPoint[];
  window: WindowKey;
}

export async function overviewData(
  deps: AppDeps,
  backlog: BacklogProbe,
  q: { window: WindowKey; agent_uuid?: string },
): Promise<OverviewData> {
  const now = deps.clock.now();
  const base: InsightDeps = {
    db: deps.db,
    now,
    config: deps.config(),
    health: deps.runtime.view(),
    backlog: () => backlog.pending(),
  };
  const spec = WINDOWS[q.window];
  const insight = await computeInsight(base, {
    agent_uuid: q.agent_uuid,
    window: q.window,
    window_ms: spec.ms,
  });
  const step = spec.ms / spec.buckets;
  const trend: TrendPoint[] = [];
  for (let i = 0; i < spec.buckets; i++) {
    const end = now - (spec.buckets - 1 - i) * step;
    const b = await computeInsight(
      { ...base, now: end, backlog: async () => 0 },
      { agent_uuid: q.agent_uuid, window: q.window, window_ms: step },
    );
    const m = b.metrics;
    trend.push({
      start: end - step,
      end,
      customer_turns: m.customer_turns,
      unanswered_turns: m.customer_turns - m.answered_turns,
      reply_rate: m.reply_rate,
      p50: m.first_response_p50_seconds,
      p90: m.first_response_p90_seconds,
      follow_up_coverage: m.follow_up_coverage,
      campaign_response_rate: m.campaign_response_rate,
    });
  }
  return { insight, trend, window: q.window };
}
