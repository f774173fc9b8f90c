// Transactions and savepoints for the services that own them (STYLE: one command, one transaction).
// SAVEPOINT / ROLLBACK TO / RELEASE are standard SQL, valid on SQLite and PostgreSQL alike.
import { sql } from 'kysely';
import type { Db } from './db.js';
import { engineOf } from './dialect.js';
import { heldSqliteConnection } from './raw-sqlite.js';

/** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
export function withTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  return db.transaction().execute((trx) => fn(trx));
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
    return db.transaction().execute(async (trx) => {
      await sql`set local synchronous_commit = off`.execute(trx);
      return fn(trx);
    });
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
  let result: T;
  try {
    result = await fn(trx);
  } catch (err) {
    await run.rollback();
    await run.release();
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
