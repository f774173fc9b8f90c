// Gauges read from the database when /metrics is scraped: conversations by state (from the rollup
// the engine keeps, a handful of rows), outbox depth by state and follow-ups due (range scans over
// pending work only, never over history).
import type { Clock } from '../lib/clock.js';
import type { Db } from '../store/db.js';
import { followUpsRepo } from '../store/follow-ups-repo.js';
import { insightsRepo } from '../store/insights-repo.js';
import { outboxRepo } from '../store/outbox-repo.js';
import type { Metrics } from './metrics.js';

const STATES = ['open', 'pending', 'escalated', 'closed'] as const;

export function registerStoreGauges(metrics: Metrics, deps: { db: Db; clock: Clock }): void {
  metrics.gauge('nwa_conversations', 'Conversations by queue state', ['state'], async (g) => {
    const totals: Record<string, number> = Object.fromEntries(STATES.map((s) => [s, 0]));
    for (const r of await insightsRepo.stateCounts(deps.db, { all: true })) {
      totals[r.queue_state] = (totals[r.queue_state] ?? 0) + r.n;
    }
    for (const [state, n] of Object.entries(totals)) g.set({ state }, n);
  });
  metrics.gauge(
    'nwa_outbox_depth',
    'Outbound messages not yet accepted by the API, by state (queued, sending)',
    ['state'],
    async (g) => {
      const unsent = await outboxRepo.countUnsent(deps.db);
      g.set({ state: 'queued' }, unsent.queued);
      g.set({ state: 'sending' }, unsent.sending);
    },
  );
  metrics.gauge(
    'nwa_follow_ups_due',
    'Follow-ups due now and not yet handed to the outbox',
    [],
    async (g) => {
      g.set(await followUpsRepo.countDue(deps.db, deps.clock.now()));
    },
  );
}
