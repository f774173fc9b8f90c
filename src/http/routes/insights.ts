// GET .../runtime/insights: ExtensionRuntimeInsight for one agent or every agent, over a window
// from 1h to 30d (default 24h), with optional hourly trend buckets (SPEC §8).
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { createBacklogProbe } from '../../inbox/backlog-probe.js';
import { computeInsight } from '../../insights/insights.js';
import { parseDuration } from '../../lib/duration.js';
import { costSchema } from '../../pricing/rate-card.js';
import { windowCost } from '../../pricing/window-cost.js';
import type { ApiRouter } from '../api-router.js';

export const INSIGHTS_PATH = '/api/extensions/native-whatsapp/runtime/insights';

const HOUR = 3_600_000;
const MAX_WINDOW = 30 * 24 * HOUR;

const query = z.strictObject({
  agent_uuid: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('one agent; without it every agent, answered with agent_uuid "*"'),
  window: z
    .string()
    .default('24h')
    .refine(
      (w) => {
        const ms = parseDuration(w);
        return ms !== undefined && ms >= HOUR && ms <= MAX_WINDOW;
      },
      { message: 'must be a duration from 1h to 30d, like "1h", "24h", "7d"' },
    )
    .describe('the window ending now, 1h..30d (default 24h)'),
  trend: z.literal('1h', { error: 'must be "1h" (hourly buckets)' }).optional(),
});

const nullableRate = z.number().min(0).max(1).nullable();

export const insightSchema = z.object({
  extension_slug: z.literal('native-whatsapp'),
  platform: z.literal('whatsapp'),
  agent_uuid: z.string(),
  status: z.enum(['active', 'degraded', 'paused']),
  summary: z.string(),
  metrics: z.object({
    reply_rate: nullableRate.describe('answered customer turns / customer turns started in W'),
    queue_pressure: z
      .number()
      .int()
      .describe(
        'conversations not closed whose last customer turn is unanswered + outbound not yet accepted',
      ),
    conversations_active: z.number().int().describe('conversations not closed'),
    conversations_open: z.number().int(),
    conversations_pending: z.number().int(),
    conversations_escalated: z.number().int(),
    customer_turns: z.number().int().describe('customer turns started in W'),
    answered_turns: z.number().int(),
    first_response_p50_seconds: z.number().nullable(),
    first_response_p90_seconds: z.number().nullable(),
    first_response_exact: z
      .boolean()
      .describe('false when W held more than 5000 turns: percentiles come from the rollup histograms'),
    follow_up_coverage: nullableRate,
    campaign_response_rate: nullableRate,
    unanswered_conversations: z.number().int(),
    outbound_pending: z.number().int(),
  }),
  controls: z.object({
    automation_mode: z.enum(['assisted', 'autonomous', 'priority']),
    access_tier: z.enum(['standard', 'root']),
  }),
  status_reasons: z.array(z.string()),
  cost: costSchema
    .extend({ outreach_total: z.number().nullable().describe('what campaign sends and follow-ups cost') })
    .describe(
      'SPEC §14, business-wide, over the hours of W: priced messages by category, cost with a rate card (pricing.rates), per_reply = outreach_total ÷ replies campaigns and follow-ups earned',
    ),
  window: z.string(),
  window_start: z.string(),
  updated_at: z.string(),
  trend: z
    .array(
      z.object({
        start: z.string(),
        end: z.string(),
        customer_turns: z.number().int(),
        answered_turns: z.number().int(),
        reply_rate: nullableRate,
      }),
    )
    .optional(),
});

export function mountInsightRoutes(router: ApiRouter, deps: AppDeps): void {
  const backlog = createBacklogProbe({ db: deps.db, clock: deps.clock });
  router.add(
    {
      method: 'get',
      path: INSIGHTS_PATH,
      tier: 'standard',
      tag: 'runtime',
      summary: 'Insights for the dashboard: reply rate and pace, queue pressure, coverage, status.',
      description:
        'Customer turns (runs of customer messages with no business message between them) count when ' +
        'they started in the window; a turn is answered by the first business message accepted by the ' +
        'API after it. Percentiles are nearest-rank, exact up to 5000 turns in the window, else read ' +
        'from the histograms kept with the day, hour and minute rollups (1 s steps under a minute, 10 s under 10 min, 1 min under an hour).',
      query,
      responses: {
        200: { description: 'the insight', schema: insightSchema },
        404: { description: 'no agent with that uuid' },
      },
    },
    async (c, { query: q }) => {
      const config = deps.config();
      const insight = await computeInsight(
        {
          db: deps.db,
          now: deps.clock.now(),
          config,
          health: deps.runtime.view(),
          backlog: () => backlog.pending(),
        },
        {
          agent_uuid: q.agent_uuid,
          window: q.window,
          window_ms: parseDuration(q.window) as number,
          ...(q.trend ? { trend: 'hour' as const } : {}),
        },
      );
      const cost = await windowCost(
        deps.db,
        config,
        deps.clock.now() - (parseDuration(q.window) as number),
        deps.clock.now(),
      );
      return c.json({ ...insight, cost });
    },
  );
}
