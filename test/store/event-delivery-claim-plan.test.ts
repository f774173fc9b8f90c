// The event-delivery claim's query plan on SQLite (migration 0019). The daemon runs without ANALYZE
// statistics, and with only a (state, next_attempt_at) index the planner read every pending row of
// every subscription, ran the per-conversation check on each and sorted them: the claim's cost grew
// with the backlog (13-17 ms at 22k pending, delivery held to ~170/s in bench/events). The plan is
// asserted instead of a time: the claim must walk one subscription's pending rows in sequence order
// through an index (no sort, so it stops at its limit).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CompiledQuery, type KyselyPlugin, type RootOperationNode } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { subscriptionsRepo } from '../../src/store/subscriptions-repo.js';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

it('claims event deliveries through (subscription_id, state, event_seq), without a sort', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nwa-claim-plan-'));
  const handle = openDatabase(path.join(dir, 'plan.db'));
  cleanup = async () => {
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  };
  await migrateToLatest(handle.db);
  // The claim's own statement, as the repository builds it, caught on its way to the driver.
  let root: RootOperationNode | undefined;
  const capture: KyselyPlugin = {
    transformQuery: (args) => {
      root ??= args.node;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  const db = handle.db.withPlugin(capture);
  await subscriptionsRepo.claim(db, 's1', 'inst-a', 1_000, 61_000, 16);
  expect(root).toBeDefined();
  const compiled = db.getExecutor().compileQuery(root as RootOperationNode, { queryId: 'plan' });
  const plan = await handle.db.executeQuery<{ detail: string }>(
    CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
  );
  const details = plan.rows.map((r) => r.detail);
  expect(
    details.some((d) => d.includes('USING INDEX event_deliveries_claim (subscription_id=? AND state=?)')),
  ).toBe(true);
  expect(details.filter((d) => d.includes('TEMP B-TREE'))).toEqual([]);
});
