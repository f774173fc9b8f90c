// Prepared queries and savepoints run on the held SQLite connection inside a transaction
// (store/raw-sqlite.ts). Inside, they are part of the transaction: they see its writes and a rollback
// takes theirs back. Outside a transaction they must still wait for Kysely's connection mutex: run
// directly, a query started while another caller's transaction is open would run inside it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteHandle } from '../../src/store/db.js';
import { insightsRepo } from '../../src/store/insights-repo.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { withSavepoint, withTransaction } from '../../src/store/transactions.js';

let dir: string;
let handle: SqliteHandle;
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'nwa-held-'));
  handle = openDatabase(path.join(dir, 'db.sqlite'));
  await migrateToLatest(handle.db);
});
afterEach(async () => {
  await handle.close();
  rmSync(dir, { recursive: true, force: true });
});

const key = { agent_id: 7, queue_state: 'open', waiting: 1 };
const counted = () =>
  handle.sqlite.prepare('select coalesce(sum(n), 0) as n from conversation_state_counts').get() as {
    n: number;
  };

describe('prepared queries on the held connection', () => {
  it('inside a transaction: see its writes, and are rolled back with it', async () => {
    await expect(
      withTransaction(handle.db, async (trx) => {
        await insightsRepo.moveStateCount(trx, null, key);
        await insightsRepo.moveStateCount(trx, null, key);
        expect(await insightsRepo.stateCounts(trx, { all: true })).toEqual([
          { queue_state: 'open', waiting: 1, n: 2 },
        ]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(counted()).toEqual({ n: 0 });
  });

  it('outside a transaction: wait for the open one instead of running inside it', async () => {
    let outside: Promise<void> | undefined;
    await expect(
      withTransaction(handle.db, async (trx) => {
        await insightsRepo.moveStateCount(trx, null, key);
        // Started while the transaction holds the connection: it must run after the rollback.
        outside = insightsRepo.moveStateCount(handle.db, null, key);
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await outside;
    // Only the outside write is left: it did not run inside the rolled-back transaction.
    expect(counted()).toEqual({ n: 1 });
  });

  it('a savepoint undoes only its own writes; the transaction goes on', async () => {
    await withTransaction(handle.db, async (trx) => {
      await insightsRepo.moveStateCount(trx, null, key);
      await expect(
        withSavepoint(trx, 'inner', async (sp) => {
          await insightsRepo.moveStateCount(sp, null, key);
          throw new Error('inner');
        }),
      ).rejects.toThrow('inner');
      await withSavepoint(trx, 'kept', (sp) => insightsRepo.moveStateCount(sp, null, key));
    });
    expect(counted()).toEqual({ n: 2 });
  });
});
