// Hot counter rows on PostgreSQL are written at the end of the transaction in one order
// (store/deferred-counts.ts, issue 18): two transactions that change the same two counters in opposite
// orders no longer deadlock, and a savepoint rolled back takes its counter changes with it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { insightsRepo } from '../../src/store/insights-repo.js';
import { withSavepoint, withTransaction } from '../../src/store/transactions.js';
import { engines, postgresPairPerTest } from '../helpers/engines.js';

const pair = postgresPairPerTest({ beforeEach, afterEach });

async function counts(db: Db): Promise<Record<string, number>> {
  const rows = await db.selectFrom('outbound_pending_counts').select(['owner', 'n']).execute();
  return Object.fromEntries(rows.map((r) => [r.owner, Number(r.n)]));
}

describe.skipIf(!engines.includes('postgres'))('counter rows on PostgreSQL', () => {
  it('two transactions bumping two counters in opposite orders both commit without a deadlock', async () => {
    // The counter rows exist, so each bump is a row lock (as on a running daemon).
    await insightsRepo.bumpOutboundPending(pair.t.handle.db, 'agent:1', 0);
    await insightsRepo.bumpOutboundPending(pair.t.handle.db, 'agent:2', 0);
    let firstBumped = () => {};
    let secondBumped = () => {};
    const first = new Promise<void>((r) => {
      firstBumped = r;
    });
    const second = new Promise<void>((r) => {
      secondBumped = r;
    });
    const runs = { a: 0, b: 0 };
    const a = withTransaction(pair.t.handle.db, async (trx) => {
      runs.a++;
      await insightsRepo.bumpOutboundPending(trx, 'agent:1', 1);
      firstBumped();
      await second;
      await insightsRepo.bumpOutboundPending(trx, 'agent:2', 1);
    });
    const b = withTransaction(pair.other.db, async (trx) => {
      runs.b++;
      await insightsRepo.bumpOutboundPending(trx, 'agent:2', 1);
      secondBumped();
      await first;
      await insightsRepo.bumpOutboundPending(trx, 'agent:1', 1);
    });
    await Promise.all([a, b]);
    // No victim: neither ran twice (written mid-transaction, one of them was the deadlock's victim).
    expect(runs).toEqual({ a: 1, b: 1 });
    expect(await counts(pair.t.handle.db)).toEqual({ 'agent:1': 2, 'agent:2': 2 });
  });

  it('a savepoint rolled back takes its counter changes with it', async () => {
    await withTransaction(pair.t.handle.db, async (trx) => {
      await insightsRepo.bumpOutboundPending(trx, 'agent:1', 1);
      await withSavepoint(trx, 'undone', async (sp) => {
        await insightsRepo.bumpOutboundPending(sp, 'agent:1', 5);
        await insightsRepo.bumpOutboundPending(sp, 'agent:2', 1);
        throw new Error('undo');
      }).catch(() => undefined);
      await insightsRepo.bumpOutboundPending(trx, 'agent:1', 1);
    });
    expect(await counts(pair.t.handle.db)).toEqual({ 'agent:1': 2 });
  });

  it('a transaction that throws writes none of its counter changes', async () => {
    await expect(
      withTransaction(pair.t.handle.db, async (trx) => {
        await insightsRepo.bumpOutboundPending(trx, 'agent:1', 1);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(await counts(pair.t.handle.db)).toEqual({});
  });
});
