// A transaction PostgreSQL picks as a deadlock's victim is run again (store/transactions.ts, issue 18):
// on three instances a settle, a lease renewal or a follow-up's decision lost to a deadlock was lost
// for good (a follow-up left `claimed` forever, a send result recorded without its effects). Two
// connections take two rows in opposite orders, so one of them must be the victim.
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { withRedoableTransaction, withTransaction } from '../../src/store/transactions.js';
import { engines, postgresPairPerTest } from '../helpers/engines.js';

const pair = postgresPairPerTest({ beforeEach, afterEach });
beforeEach(async () => {
  if (!engines.includes('postgres')) return;
  await sql`create table deadlock_probe (id integer primary key, n integer not null)`.execute(
    pair.t.handle.db,
  );
  await sql`insert into deadlock_probe (id, n) values (1, 0), (2, 0)`.execute(pair.t.handle.db);
});

/** A promise and its resolve, to line the two transactions up. */
function signal(): { done: Promise<void>; fire(): void } {
  let fire = () => {};
  const done = new Promise<void>((r) => {
    fire = r;
  });
  return { done, fire };
}

const bump = (trx: Db, id: number) => sql`update deadlock_probe set n = n + 1 where id = ${id}`.execute(trx);

describe.skipIf(!engines.includes('postgres'))('a deadlock on PostgreSQL', () => {
  for (const [name, run] of [
    ['withTransaction', withTransaction],
    ['withRedoableTransaction', withRedoableTransaction],
  ] as const) {
    it(`${name}: the victim runs again and both transactions commit`, async () => {
      const firstHolds = signal();
      const secondHolds = signal();
      const runs = { first: 0, second: 0 };
      // Each holds one row and then asks for the other's: a cycle only the server can break.
      const first = run(pair.t.handle.db, async (trx) => {
        runs.first++;
        await bump(trx, 1);
        firstHolds.fire();
        await secondHolds.done;
        await bump(trx, 2);
      });
      const second = run(pair.other.db, async (trx) => {
        runs.second++;
        await bump(trx, 2);
        secondHolds.fire();
        await firstHolds.done;
        await bump(trx, 1);
      });
      const settled = await Promise.allSettled([first, second]);
      expect(settled.map((s) => (s.status === 'rejected' ? String(s.reason) : 'ok'))).toEqual(['ok', 'ok']);
      // One of them was the victim: its work ran twice, its first run rolled back.
      expect(runs.first + runs.second).toBe(3);
      const rows = await sql<{ id: number; n: number }>`select id, n from deadlock_probe order by id`.execute(
        pair.t.handle.db,
      );
      expect(rows.rows).toEqual([
        { id: 1, n: 2 },
        { id: 2, n: 2 },
      ]);
    });
  }

  it('an error of the work itself is not run again', async () => {
    let runs = 0;
    await expect(
      withTransaction(pair.t.handle.db, async (trx) => {
        runs++;
        await sql`insert into deadlock_probe (id, n) values (1, 0)`.execute(trx);
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(runs).toBe(1);
  });
});
