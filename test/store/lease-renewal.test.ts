// Lease renewal on PostgreSQL never waits for a row another transaction holds (store/locking.ts
// renewLeases, issue 18): an instance's renewal of all its outbox leases used to wait behind its
// slowest settle (and join its deadlocks), and meanwhile the leases of its sends in flight ran out and
// another instance sent them again. The row held is passed over; the others are renewed at once.
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { holdInstancePresence } from '../../src/store/instance-presence.js';
import { outboxRepo } from '../../src/store/outbox-repo.js';
import { withTransaction } from '../../src/store/transactions.js';
import { engines, postgresPairPerTest } from '../helpers/engines.js';
import { bareOutboxRow } from '../helpers/outbox-rows.js';

const T0 = Date.parse('2026-01-05T08:00:00Z');
const LEASE = 5_000;

const pair = postgresPairPerTest({ beforeEach, afterEach });

async function seed(db: Db, ids: string[]): Promise<void> {
  for (const id of ids) {
    await outboxRepo.insert(db, bareOutboxRow(id, T0));
  }
}

describe.skipIf(!engines.includes('postgres'))('outbox lease renewal on PostgreSQL', () => {
  it('passes over a row another transaction holds and renews the rest without waiting', async () => {
    const ids = ['ob1', 'ob2', 'ob3'];
    await seed(pair.t.handle.db, ids);
    const claimed = await withTransaction(pair.t.handle.db, (trx) =>
      outboxRepo.claimForQueue(trx, 'inst-1', T0, T0 + LEASE, 10),
    );
    expect(claimed).toHaveLength(3);
    const order: string[] = [];
    let renewed = () => {};
    const renewDone = new Promise<void>((r) => {
      renewed = r;
    });
    let locked = () => {};
    const holding = new Promise<void>((r) => {
      locked = r;
    });
    // Another transaction holds ob2 (a settle in progress) until the renewal is done, or a while.
    const holder = withTransaction(pair.other.db, async (trx) => {
      await sql`select id from outbox where id = 'ob2' for update`.execute(trx);
      locked();
      await Promise.race([renewDone, new Promise((r) => setTimeout(r, 3000))]);
      order.push('holder released');
    });
    await holding;
    const n = await withTransaction(pair.t.handle.db, (trx) =>
      outboxRepo.renewLeases(trx, 'inst-1', T0 + 2 * LEASE),
    );
    order.push('renewed');
    renewed();
    await holder;
    expect(order).toEqual(['renewed', 'holder released']);
    expect(n).toBe(2);
    const rows = await pair.t.handle.db
      .selectFrom('outbox')
      .select(['id', 'lease_until'])
      .orderBy('id')
      .execute();
    expect(rows.map((r) => [r.id, Number(r.lease_until)])).toEqual([
      ['ob1', T0 + 2 * LEASE],
      ['ob2', T0 + LEASE],
      ['ob3', T0 + 2 * LEASE],
    ]);
  });
});

describe.skipIf(!engines.includes('postgres'))('outbox takeover of a send in flight on PostgreSQL', () => {
  it("a live instance's send is not taken over when its lease ran out; a gone instance's is", async () => {
    await seed(pair.t.handle.db, ['ob1']);
    const presence = await holdInstancePresence(pair.t.url as string, 'inst-1');
    try {
      await withTransaction(pair.t.handle.db, async (trx) => {
        await outboxRepo.claimForQueue(trx, 'inst-1', T0, T0 + LEASE, 10);
        expect(await outboxRepo.markSending(trx, 'ob1', 'inst-1', T0, T0 + LEASE)).toBe(true);
      });
      // inst-1 stalled past its lease (no renewal), but it is alive: its send may be answered any moment.
      const late = T0 + 10 * LEASE;
      expect(
        await withTransaction(pair.other.db, (trx) => outboxRepo.requeueExpiredSending(trx, 'inst-2', late)),
      ).toBe(0);
      expect(
        await withTransaction(pair.other.db, (trx) => outboxRepo.recoverAfterRestart(trx, 'inst-3', late)),
      ).toBe(0);
      expect((await outboxRepo.get(pair.t.handle.db, 'ob1'))?.state).toBe('sending');
    } finally {
      await presence.release();
    }
    // inst-1 is gone (its session ended): SPEC §5's one duplicate window, the row is sent again.
    const late = T0 + 10 * LEASE;
    expect(
      await withTransaction(pair.other.db, (trx) => outboxRepo.requeueExpiredSending(trx, 'inst-2', late)),
    ).toBe(1);
    expect((await outboxRepo.get(pair.t.handle.db, 'ob1'))?.state).toBe('queued');
  });
});
