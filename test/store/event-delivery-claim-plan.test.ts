// The event-delivery claim's query plan on SQLite (migration 0019). The daemon runs without ANALYZE
// statistics, and with only a (state, next_attempt_at) index the planner read every pending row of
// every subscription, ran the per-conversation check on each and sorted them: the claim's cost grew
// with the backlog (13-17 ms at 22k pending, delivery held to ~170/s in bench/events). The plan is
// asserted instead of a time: the claim must walk one subscription's pending rows in sequence order
// through an index (no sort, so it stops at its limit).
import { afterEach, expect, it } from 'vitest';
import { subscriptionsRepo } from '../../src/store/subscriptions-repo.js';
import { planDatabasePerTest } from './query-plans.js';

const openPlan = planDatabasePerTest({ afterEach });

it('claims event deliveries through (subscription_id, state, event_seq), without a sort', async () => {
  const p = await openPlan();
  // The claim's own statement, as the repository builds it.
  await subscriptionsRepo.claim(p.db, 's1', 'inst-a', 1_000, 61_000, 16);
  const [root] = p.caught;
  expect(root).toBeDefined();
  const details = await p.plan(root as NonNullable<typeof root>);
  expect(
    details.some((d) => d.includes('USING INDEX event_deliveries_claim (subscription_id=? AND state=?)')),
  ).toBe(true);
  expect(details.filter((d) => d.includes('TEMP B-TREE'))).toEqual([]);
});
