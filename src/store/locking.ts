// Row locks, the one dialect-specific piece of every claim (SPEC §10). A claim is one statement:
//   with due as materialized (select id from <queue> where <due and not held by a live lease>
//     order by ... limit n [for update skip locked])
//   update <queue> set lease_owner = ?, lease_until = ? where id in (select id from due) returning *
// The CTE, not `id in (subquery)`: PostgreSQL may run a locking subquery again for each row it
// updates, and each run passes over the rows the statement already updated (locked by itself), so
// one claim of `limit n` took every due row (caught by test/store/claims.test.ts).
// On PostgreSQL the inner select takes FOR UPDATE SKIP LOCKED, so concurrent claimers on other
// connections pass over each other's rows instead of waiting for them (and never take them twice).
// SQLite has no row locks and needs none: a write statement holds the database's one write lock, so the
// select and the update of one claim statement see and change the same rows with no writer between.
// Conversation updates re-read their row with `forUpdate` (a plain row lock, waited for) for the same
// reason. Repositories call these helpers; the same repository code runs on both engines.
import { type Kysely, PostgresAdapter, type SelectQueryBuilder } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: works for any Kysely instance, whatever its tables.
type AnyDb = Kysely<any>;

/** True when `db` (a database, transaction or connection) talks to PostgreSQL. */
export function isPostgres(db: AnyDb): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** The claim's inner select: FOR UPDATE SKIP LOCKED on PostgreSQL, as it is on SQLite. */
export function skipLocked<DB, TB extends keyof DB, O>(
  db: AnyDb,
  qb: SelectQueryBuilder<DB, TB, O>,
): SelectQueryBuilder<DB, TB, O> {
  return isPostgres(db) ? qb.forUpdate().skipLocked() : qb;
}

/**
 * A read that a write in the same transaction depends on: FOR UPDATE on PostgreSQL (of the table
 * `of` only, when the read joins others it does not change).
 */
export function forUpdate<DB, TB extends keyof DB, O>(
  db: AnyDb,
  qb: SelectQueryBuilder<DB, TB, O>,
  of?: TB & string,
): SelectQueryBuilder<DB, TB, O> {
  return isPostgres(db) ? qb.forUpdate(of) : qb;
}
