// The retention purge's query plan on SQLite (migration 0020). Every scheduler tick asks for finished
// deliveries older than retention; with `state in (...)` over (state, id) the planner read and sorted
// every finished row to find none (112 ms at 81k rows in bench/ingress, holding the event loop each
// tick). The plan is asserted instead of a time: each statement walks (state, received_at) in order
// through the index (no sort, so it stops at its limit).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CompiledQuery, type KyselyPlugin, type RootOperationNode } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { housekeepingRepo } from '../../src/store/housekeeping-repo.js';
import { migrateToLatest } from '../../src/store/migrate.js';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

it('purges finished inbox rows through (state, received_at), without a sort', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nwa-purge-plan-'));
  const handle = openDatabase(path.join(dir, 'plan.db'));
  cleanup = async () => {
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  };
  await migrateToLatest(handle.db);
  // The purge's reads, as the repository builds them, caught on their way to the driver.
  const reads: RootOperationNode[] = [];
  const capture: KyselyPlugin = {
    transformQuery: (args) => {
      if (args.node.kind === 'SelectQueryNode') reads.push(args.node);
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  const db = handle.db.withPlugin(capture);
  expect(await housekeepingRepo.purgeFinishedInbox(db, 1_000, 500)).toBe(0);
  expect(reads).toHaveLength(2);
  for (const node of reads) {
    const compiled = db.getExecutor().compileQuery(node, { queryId: 'plan' });
    const plan = await handle.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
    );
    const details = plan.rows.map((r) => r.detail);
    expect(details).toEqual(['SEARCH inbox USING INDEX inbox_state_received (state=? AND received_at<?)']);
  }
});
