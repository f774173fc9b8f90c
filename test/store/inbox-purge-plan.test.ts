// The retention purge's query plan on SQLite (migration 0020). Every scheduler tick asks for finished
// deliveries older than retention; with `state in (...)` over (state, id) the planner read and sorted
// every finished row to find none (112 ms at 81k rows in bench/ingress, holding the event loop each
// tick). The plan is asserted instead of a time: each statement walks (state, received_at) in order
// through the index (no sort, so it stops at its limit).
import { afterEach, expect, it } from 'vitest';
import { housekeepingRepo } from '../../src/store/housekeeping-repo.js';
import { type PlanDatabase, planDatabase } from './query-plans.js';

let p: PlanDatabase | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

it('purges finished inbox rows through (state, received_at), without a sort', async () => {
  p = await planDatabase();
  expect(await housekeepingRepo.purgeFinishedInbox(p.db, 1_000, 500)).toBe(0);
  const reads = p.caught.filter((node) => node.kind === 'SelectQueryNode');
  expect(reads).toHaveLength(2);
  for (const node of reads) {
    expect(await p.plan(node)).toEqual([
      'SEARCH inbox USING INDEX inbox_state_received (state=? AND received_at<?)',
    ]);
  }
});
