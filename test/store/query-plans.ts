// For tests that assert a query plan instead of a time: a migrated SQLite file of its own, the
// statements a repository builds caught on their way to the driver, and SQLite's plan for each.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CompiledQuery, type KyselyPlugin, type RootOperationNode } from 'kysely';
import { type Db, openDatabase, type SqliteHandle } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';

export interface PlanDatabase {
  handle: SqliteHandle;
  /** The database with every statement built through it recorded in `caught`. */
  db: Db;
  caught: RootOperationNode[];
  /** SQLite's plan lines (`detail`) for a caught statement, with its own parameters. */
  plan(node: RootOperationNode): Promise<string[]>;
  close(): Promise<void>;
}

export async function planDatabase(): Promise<PlanDatabase> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nwa-plan-'));
  const handle = openDatabase(path.join(dir, 'plan.db'));
  await migrateToLatest(handle.db);
  const caught: RootOperationNode[] = [];
  const capture: KyselyPlugin = {
    transformQuery: (args) => {
      caught.push(args.node);
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  const db = handle.db.withPlugin(capture);
  return {
    handle,
    db,
    caught,
    async plan(node) {
      const compiled = db.getExecutor().compileQuery(node, { queryId: 'plan' });
      const plan = await handle.db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
      );
      return plan.rows.map((r) => r.detail);
    },
    async close() {
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One plan database per test: the returned function opens it, and it is closed after the test
 * (pass vitest's afterEach).
 */
export function planDatabasePerTest(hooks: {
  afterEach: (fn: () => Promise<void>) => void;
}): () => Promise<PlanDatabase> {
  let current: PlanDatabase | undefined;
  hooks.afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return async () => {
    current = await planDatabase();
    return current;
  };
}
