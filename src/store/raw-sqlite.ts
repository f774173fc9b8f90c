// The SQLite connection under a Kysely instance, for the hot statements of a transaction. Kysely's
// executor costs more CPU per statement than SQLite spends running a simple one (connection provider,
// result transformation, the driver's promise chain: about 2.3 µs against 0.5 µs on the statement
// itself, measured with bench/profile-processing.ts). Inside a transaction the connection is held by
// the caller and SQLite has only the one connection, so running an already compiled statement on it
// directly is the same statement on the same connection in the same transaction, minus the executor.
// Outside a transaction it is not: Kysely's mutex orders other callers' statements and transactions
// on the one connection, and bypassing it could run a statement inside someone else's transaction;
// those calls keep going through Kysely.
import type SQLite from 'better-sqlite3';
import type { DialectAdapter, QueryResult } from 'kysely';

/** What this file needs of a Kysely instance (db.ts's Db), named structurally so db.ts can import it. */
interface KyselyLike {
  readonly isTransaction: boolean;
  getExecutor(): { readonly adapter: DialectAdapter };
}

/** Compiled statements by SQL text (db.ts's statement cache): the same cache Kysely's driver uses. */
export interface StatementSource {
  prepare(sql: string): SQLite.Statement;
  /**
   * A statement of its own for `sql`, never handed to Kysely, a reader in raw mode (rows as arrays):
   * for runStatement.
   */
  prepareOwn(sql: string): SQLite.Statement;
}

const connections = new WeakMap<DialectAdapter, StatementSource>();

/** Called once by db.ts for each SQLite database it opens. */
export function registerSqliteConnection(db: KyselyLike, source: StatementSource): void {
  connections.set(db.getExecutor().adapter, source);
}

/**
 * The connection to run statements on directly: only for an open transaction on SQLite (undefined
 * otherwise, and the caller goes through Kysely).
 */
export function heldSqliteConnection(db: KyselyLike): StatementSource | undefined {
  return db.isTransaction ? connections.get(db.getExecutor().adapter) : undefined;
}

/** Builds a row object from a raw row, by statement (see toRows). */
const rowMakers = new WeakMap<SQLite.Statement, (values: unknown[]) => unknown>();

/**
 * The rows of a raw-mode reader as objects keyed by column name, as better-sqlite3 would make them, but
 * through a function made once per statement whose object literal has the columns as fixed keys: V8
 * then builds every row with one shape instead of adding named properties one by one, which took about
 * half the CPU of reading a conversation row (24 columns: 8 µs against 4 µs in a micro-benchmark on
 * the daemon's database inside a transaction). A later column of the same name wins, as in
 * better-sqlite3. The keys are the statement's column names, written as JSON string literals.
 */
function toRows<R>(stmt: SQLite.Statement, values: unknown[][]): R[] {
  let make = rowMakers.get(stmt);
  if (!make) {
    const names = stmt.columns().map((c) => c.name);
    const literal = `return {${names.map((n, i) => `${JSON.stringify(n)}: v[${i}]`).join(', ')}};`;
    make = names.includes('__proto__')
      ? (v) => Object.fromEntries(names.map((n, i) => [n, v[i]]))
      : (new Function('v', literal) as (v: unknown[]) => unknown);
    rowMakers.set(stmt, make);
  }
  return values.map(make) as R[];
}

/**
 * Runs a statement from prepareOwn as Kysely's SQLite driver would, and answers with the same result.
 */
export function runStatement<R>(stmt: SQLite.Statement, parameters: readonly unknown[]): QueryResult<R> {
  if (stmt.reader) return { rows: toRows<R>(stmt, stmt.all(parameters) as unknown[][]) };
  const { changes, lastInsertRowid } = stmt.run(parameters);
  return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
}
