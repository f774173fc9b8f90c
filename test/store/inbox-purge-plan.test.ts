// The inbox's time-range queries on SQLite (migrations 0020 and 0021). The retention purge's plan: Every scheduler tick asks for finished
// deliveries older than retention; with `state in (...)` over (state, id) the planner read and sorted
// every finished row to find none (112 ms at 81k rows in bench/ingress, holding the event loop each
// tick). The plan is asserted instead of a time: each statement walks (state, received_at) in order
// through the index (no sort, so it stops at its limit). Recovery's reprocessing by time goes through
// the same index, which is why 0021 could drop (received_at) from every ingress insert.
import { afterEach, expect, it } from 'vitest';
import { housekeepingRepo } from '../../src/store/housekeeping-repo.js';
import { inboxRepo } from '../../src/store/inbox-repo.js';
import { planDatabasePerTest } from './query-plans.js';

const openPlan = planDatabasePerTest({ afterEach });

it('purges finished inbox rows through (state, received_at), without a sort', async () => {
  const p = await openPlan();
  expect(await housekeepingRepo.purgeFinishedInbox(p.db, 1_000, 500)).toBe(0);
  const reads = p.caught.filter((node) => node.kind === 'SelectQueryNode');
  expect(reads).toHaveLength(2);
  for (const node of reads) {
    expect(await p.plan(node)).toEqual([
      'SEARCH inbox USING INDEX inbox_state_received (state=? AND received_at<?)',
    ]);
  }
});

it('reprocesses by time through (state, received_at), and the inbox has no index on received_at alone', async () => {
  const p = await openPlan();
  expect(await inboxRepo.reprocessInboxSince(p.db, 1_000, 2_000)).toBe(0);
  const [update] = p.caught.filter((node) => node.kind === 'UpdateQueryNode');
  expect(await p.plan(update as NonNullable<typeof update>)).toEqual([
    'SEARCH inbox USING INDEX inbox_state_received (state=? AND received_at>?)',
  ]);
  const indexes = p.handle.sqlite
    .prepare("select name from sqlite_master where type = 'index' and tbl_name = 'inbox' order by name")
    .pluck()
    .all();
  expect(indexes).toEqual(['inbox_state_id', 'inbox_state_received', 'sqlite_autoindex_inbox_1']);
});
