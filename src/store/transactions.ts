// Transactions and savepoints for the services that own them (STYLE: one command, one transaction).
// SAVEPOINT / ROLLBACK TO / RELEASE are standard SQL, valid on SQLite and PostgreSQL alike.
import { sql } from 'kysely';
import type { Db } from './db.js';

/** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
export function withTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  return db.transaction().execute((trx) => fn(trx));
}

/**
 * Runs `fn` inside a savepoint of an open transaction: its writes are undone when it throws (and the
 * error is rethrown), while the surrounding transaction goes on. Names must be SQL identifiers.
 */
export async function withSavepoint<T>(trx: Db, name: string, fn: (trx: Db) => Promise<T>): Promise<T> {
  await sql`savepoint ${sql.id(name)}`.execute(trx);
  let result: T;
  try {
    result = await fn(trx);
  } catch (err) {
    await sql`rollback to savepoint ${sql.id(name)}`.execute(trx);
    await sql`release savepoint ${sql.id(name)}`.execute(trx);
    throw err;
  }
  await sql`release savepoint ${sql.id(name)}`.execute(trx);
  return result;
}
