// withRedoableTransaction: the transaction's commit runs with synchronous=NORMAL (not fsynced by itself)
// and the connection is back to FULL afterwards, also when the work throws, so no other commit (an
// ingress group commit answering 200s) ever runs unsynced.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteHandle } from '../../src/store/db.js';
import { withRedoableTransaction } from '../../src/store/transactions.js';

let dir: string;
let handle: SqliteHandle;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'nwa-trx-'));
  handle = openDatabase(path.join(dir, 'db.sqlite'));
  handle.sqlite.exec('create table t (x integer)');
});
afterEach(async () => {
  await handle.close();
  rmSync(dir, { recursive: true, force: true });
});

const FULL = 2;
const NORMAL = 1;
const synchronous = () => handle.sqlite.pragma('synchronous', { simple: true });

describe('withRedoableTransaction', () => {
  it('commits with synchronous=NORMAL and leaves the connection at FULL', async () => {
    expect(synchronous()).toBe(FULL);
    let inside = 0;
    await withRedoableTransaction(handle.db, async (trx) => {
      inside = synchronous() as number;
      await sql`insert into t (x) values (1)`.execute(trx);
    });
    expect(inside).toBe(NORMAL);
    expect(synchronous()).toBe(FULL);
    expect(handle.sqlite.prepare('select count(*) n from t').get()).toEqual({ n: 1 });
  });

  it('rolls back and restores FULL when the work throws', async () => {
    await expect(
      withRedoableTransaction(handle.db, async (trx) => {
        await sql`insert into t (x) values (1)`.execute(trx);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(synchronous()).toBe(FULL);
    expect(handle.sqlite.prepare('select count(*) n from t').get()).toEqual({ n: 0 });
  });

  it('another query waits for it instead of running inside the NORMAL window', async () => {
    const order: string[] = [];
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const redo = withRedoableTransaction(handle.db, async (trx) => {
      order.push('redo start');
      await gate;
      await sql`insert into t (x) values (1)`.execute(trx);
      order.push('redo end');
    });
    const other = sql<{ s: number }>`pragma synchronous`.execute(handle.db).then((r) => {
      order.push(`other saw ${JSON.stringify(r.rows[0])}`);
    });
    await new Promise((r) => setImmediate(r));
    release();
    await Promise.all([redo, other]);
    expect(order).toEqual(['redo start', 'redo end', 'other saw {"synchronous":2}']);
  });
});
