// makeDurable (store/transactions.ts): before events leave the process, every commit that could be
// read is made durable. On SQLite a barrier write (one fsynced commit) happens only while a redoable
// commit is not yet covered by a durable one; on PostgreSQL always (another instance's redoable
// commits are invisible to this process's count). A redoable commit that only repeats the same thing
// when lost (the event delivery worker's) needs no barrier. Observed through the barrier's settings row, whose
// value is the time it was written.
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { inboxRepo } from '../../src/store/inbox-repo.js';
import { settingsRepo } from '../../src/store/settings-repo.js';
import {
  DURABILITY_BARRIER_KEY,
  makeDurable,
  withRedoableTransaction,
  withTransaction,
} from '../../src/store/transactions.js';
import { engines, openTestDatabase, type TestDatabase } from '../helpers/engines.js';

let opened: TestDatabase | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

const barrier = (db: Db) => settingsRepo.get(db, DURABILITY_BARRIER_KEY);
const redoable = (db: Db, now: number) =>
  withRedoableTransaction(db, (trx) => settingsRepo.put(trx, 'test.redoable', String(now), now));

describe.each(engines)('makeDurable on %s', (engine) => {
  async function open(): Promise<Db> {
    opened = await openTestDatabase(engine);
    return opened.handle.db;
  }

  it('writes a barrier at first: a killed predecessor may have left commits unsynced', async () => {
    const db = await open();
    await makeDurable(db, 1000);
    expect(await barrier(db)).toBe('1000');
  });

  it('writes one after a redoable commit, and never for a read', async () => {
    const db = await open();
    await makeDurable(db, 1000);
    await redoable(db, 2000);
    await makeDurable(db, 3000);
    expect(await barrier(db)).toBe('3000');
    await sql`select 1`.execute(db);
    await makeDurable(db, 4000);
    // SQLite: nothing uncovered, nothing written. PostgreSQL: written every time.
    expect(await barrier(db)).toBe(engine === 'sqlite' ? '3000' : '4000');
  });

  it('counts a durable transaction or an ingress commit after a redoable one as covering it', async () => {
    const db = await open();
    await makeDurable(db, 1000);
    await redoable(db, 2000);
    await withTransaction(db, (trx) => settingsRepo.put(trx, 'test.durable', 'x', 2500));
    await makeDurable(db, 3000);
    expect(await barrier(db)).toBe(engine === 'sqlite' ? '1000' : '3000');

    await redoable(db, 4000);
    await inboxRepo.insertMany(db, [
      {
        id: '01KDURABLE0000000000000001',
        received_at: 4500,
        body: '{}',
        delivery_hash: 'h',
        state: 'pending',
        attempts: 0,
        next_attempt_at: 4500,
        last_error: null,
        processed_at: null,
      },
    ]);
    await makeDurable(db, 5000);
    expect(await barrier(db)).toBe(engine === 'sqlite' ? '1000' : '5000');
  });

  it('leaves out a redoable commit that repeats on loss, unless its result says it recorded something new', async () => {
    const db = await open();
    await makeDurable(db, 1000);
    // The event delivery worker's claims and settles: lost, the same events go out again.
    await withRedoableTransaction(db, (trx) => settingsRepo.put(trx, 'test.claim', 'x', 2000), {
      repeatsOnLoss: true,
    });
    await withRedoableTransaction(db, async (trx) => settingsRepo.put(trx, 'test.settle', 'x', 2500), {
      repeatsOnLoss: () => true,
    });
    await makeDurable(db, 3000);
    expect(await barrier(db)).toBe(engine === 'sqlite' ? '1000' : '3000');
    // A settle that disabled a subscription recorded an event: that commit is counted.
    await withRedoableTransaction(db, async (trx) => settingsRepo.put(trx, 'test.settle', 'y', 3500), {
      repeatsOnLoss: () => false,
    });
    await makeDurable(db, 4000);
    expect(await barrier(db)).toBe('4000');
  });
});
