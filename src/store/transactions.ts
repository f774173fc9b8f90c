// Transactions and savepoints for the services that own them (STYLE: one command, one transaction).
// SAVEPOINT / ROLLBACK TO / RELEASE are standard SQL, valid on SQLite and PostgreSQL alike.
import { sql } from 'kysely';
import type { Db } from './db.js';
import { flushLedger, ledgerMark, openLedger, rollbackLedger } from './deferred-counts.js';
import { engineOf } from './dialect.js';
import { heldSqliteConnection } from './raw-sqlite.js';

/**
 * How often a transaction PostgreSQL chose as a deadlock's victim (or, under a stricter isolation, a
 * serialization failure) is run again before its error is the caller's.
 */
const CONCURRENCY_ATTEMPTS = 6;
/** SQLSTATEs that say "run the whole transaction again": serialization_failure, deadlock_detected. */
const RUN_AGAIN = new Set(['40001', '40P01']);

/** True when `err` is PostgreSQL rolling a transaction back for concurrency alone, nothing in its own work. */
export function lostToConcurrency(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RUN_AGAIN.has(code);
}

/**
 * Runs `begin` (one whole transaction) and, when PostgreSQL rolled it back as a deadlock's victim,
 * again, up to CONCURRENCY_ATTEMPTS times after a short jittered pause. On several instances a
 * deadlock is an ordinary outcome of concurrent transactions (the server breaks the cycle by failing
 * one of them) and PostgreSQL's answer is to run that transaction again; without it a send result,
 * a follow-up's outcome or a lease renewal was lost to it (issue 18). SQLite never answers so: its
 * one writer cannot deadlock. `fn` runs again from the start, so it must leave nothing behind outside
 * the database that a second run would double (collect into locals, apply after the commit).
 */
async function runAgainOnConcurrency<T>(begin: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await begin();
    } catch (err) {
      if (attempt >= CONCURRENCY_ATTEMPTS || !lostToConcurrency(err)) throw err;
      // Jitter so that the two sides of the cycle do not meet again in the same order at once.
      await new Promise((resolve) => setTimeout(resolve, attempt * 5 + Math.random() * 20 * attempt));
    }
  }
}

/**
 * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws; run again
 * when PostgreSQL chose it as a deadlock's victim (runAgainOnConcurrency).
 */
export function withTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  return runAgainOnConcurrency(() => db.transaction().execute((trx) => withLedger(trx, fn)));
}

/** Runs `fn` with the transaction's counter ledger open, written last (store/deferred-counts.ts). */
async function withLedger<T>(trx: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  openLedger(trx);
  const result = await fn(trx);
  await flushLedger(trx);
  return result;
}

/**
 * Runs `fn` in one transaction whose commit is not fsynced by itself (SQLite WAL with
 * `synchronous=NORMAL` for this transaction only; the connection is back to FULL afterwards). For work
 * that is redone from durable input when its commit is lost: the inbox processor, whose rows stay
 * `pending` in the same lost commit. Nothing outside can act on such a commit before it is durable:
 * in WAL mode the next fsynced commit (an outbox or delivery claim, the next ingress commit) makes every
 * earlier frame durable with it, and a kill -9 loses nothing (the frames are in the OS already); only a
 * power loss can take back the last few processing commits, which the rows still pending then redo.
 * Saves one fsync per processing slice, which on a slow disk is most of its time. On PostgreSQL the same
 * holds with `synchronous_commit = off` for this transaction: the commit returns before its WAL is
 * flushed, a crash of the server can lose it (the rows stay pending and are redone), never corrupt it.
 */
export function withRedoableTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  if (engineOf(db) === 'postgres') {
    return runAgainOnConcurrency(() =>
      db.transaction().execute(async (trx) => {
        await sql`set local synchronous_commit = off`.execute(trx);
        return withLedger(trx, fn);
      }),
    );
  }
  return db.connection().execute(async (conn) => {
    await sql`pragma synchronous = NORMAL`.execute(conn);
    try {
      return await conn.transaction().execute((trx) => fn(trx));
    } finally {
      await sql`pragma synchronous = FULL`.execute(conn);
    }
  });
}

/**
 * Runs `fn` inside a savepoint of an open transaction: its writes are undone when it throws (and the
 * error is rethrown), while the surrounding transaction goes on. Names must be SQL identifiers.
 */
export async function withSavepoint<T>(trx: Db, name: string, fn: (trx: Db) => Promise<T>): Promise<T> {
  const run = savepointCommands(trx, name);
  await run.savepoint();
  const mark = ledgerMark(trx);
  let result: T;
  try {
    result = await fn(trx);
  } catch (err) {
    await run.rollback();
    await run.release();
    rollbackLedger(trx, mark);
    throw err;
  }
  await run.release();
  return result;
}

/**
 * The three commands of a savepoint. On SQLite inside a transaction they run on the held connection
 * directly (raw-sqlite.ts): the inbox processor takes a savepoint per delivery, and through Kysely
 * each command was compiled anew.
 */
function savepointCommands(trx: Db, name: string) {
  const held = heldSqliteConnection(trx);
  if (held) {
    const id = `"${name.replaceAll('"', '""')}"`;
    const exec = (text: string) => {
      held.prepare(text).run();
      return Promise.resolve();
    };
    return {
      savepoint: () => exec(`savepoint ${id}`),
      rollback: () => exec(`rollback to savepoint ${id}`),
      release: () => exec(`release savepoint ${id}`),
    };
  }
  return {
    savepoint: async () => void (await sql`savepoint ${sql.id(name)}`.execute(trx)),
    rollback: async () => void (await sql`rollback to savepoint ${sql.id(name)}`.execute(trx)),
    release: async () => void (await sql`release savepoint ${sql.id(name)}`.execute(trx)),
  };
}
