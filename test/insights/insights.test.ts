// computeInsight past the exact-percentile limit: rollup rows written through the repository (as the
// engine writes them) hold more than 5000 turns, and the percentiles come from their histograms.
import { afterEach, describe, expect, it } from 'vitest';
import { addToHistogram, type Histogram, responseBucket } from '../../src/insights/insight-math.js';
import { ALL_AGENTS, rollupKeys } from '../../src/insights/insight-rollups.js';
import { computeInsight, EXACT_PERCENTILE_LIMIT } from '../../src/insights/insights.js';
import { insightsRepo } from '../../src/store/insights-repo.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

describe('insights past the exact-percentile limit', () => {
  it('reads p50 and p90 from the histograms and says they are not exact', async () => {
    t = await createTestApp({ start: '2026-01-05T12:00:00Z' });
    const db = t.deps.db;
    const at = Date.parse('2026-01-05T09:15:00Z');
    const keys = rollupKeys(null, at);
    // 6000 turns: 3000 answered in 42.x s, 2400 in 5 min, 600 in 2 h.
    const answered: [number, number][] = [
      [42_500, 3000],
      [300_000, 2400],
      [7_200_000, 600],
    ];
    await insightsRepo.bump(db, keys, { turns: 6000, answered: 6000 });
    for (const [ms, n] of answered) {
      await insightsRepo.updateHistograms(db, keys, (h) =>
        JSON.stringify(addToHistogram(JSON.parse(h) as Histogram, responseBucket(ms), n)),
      );
    }
    expect(6000).toBeGreaterThan(EXACT_PERCENTILE_LIMIT);
    const insight = await computeInsight(
      {
        db,
        now: t.clock.now(),
        config: t.deps.config(),
        health: t.deps.runtime.view(),
        backlog: async () => 0,
      },
      { window: '24h', window_ms: 24 * 3_600_000 },
    );
    expect(insight.metrics).toMatchObject({
      customer_turns: 6000,
      answered_turns: 6000,
      reply_rate: 1,
      first_response_exact: false,
      first_response_p50_seconds: 42, // rank 3000: under a minute the histogram is exact to the second
      first_response_p90_seconds: 300, // rank 5400: the 5-minute bucket
    });
    expect(keys.some((k) => k.agent_id === ALL_AGENTS)).toBe(true);
  });
});
