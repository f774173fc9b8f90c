// Hot-path queries built and compiled once instead of on every call. Kysely builds an operation tree,
// freezes it and compiles it to SQL for each query, which on the inbox path cost more CPU than SQLite
// spent running the statement (about 7 µs against 2.3 µs for a compiled query, measured with
// bench/profile-processing.ts). A prepared query is written with the ordinary query builder, compiled
// the first time it runs on a database (per dialect, so the SQL stays portable: SQLite and PostgreSQL
// each get their own text), and afterwards only its parameters change. Inside a transaction on SQLite
// it runs on the held connection directly (raw-sqlite.ts says why that is the same statement); elsewhere
// through Kysely's executor: same connection, same transaction, same plugins.
import type SQLite from 'better-sqlite3';
import type { Compilable, CompiledQuery, DialectAdapter, QueryResult } from 'kysely';
import type { Db } from './db.js';
import { heldSqliteConnection, runStatement } from './raw-sqlite.js';

/** Stands for argument `index` while the query is built; replaced by the argument when it runs. */
class Placeholder {
  constructor(readonly index: number) {}
}

/**
 * `build` receives placeholders in place of the arguments: use each as a value (a compared value, an
 * inserted column, an element of an `in` list), never to decide the shape of the query (no `if` on
 * it, no `.limit(arg)`): the shape is fixed when the query is first compiled.
 */
export function preparedQuery<A extends unknown[], R>(
  arity: A['length'],
  build: (db: Db, ...args: A) => Compilable<R>,
): (db: Db, ...args: A) => Promise<QueryResult<R>> {
  const compiled = new WeakMap<DialectAdapter, { query: CompiledQuery<R>; stmt?: SQLite.Statement }>();
  const placeholders = Array.from({ length: arity }, (_, i) => new Placeholder(i)) as unknown as A;
  return (db, ...args) => {
    const adapter = db.getExecutor().adapter;
    let entry = compiled.get(adapter);
    if (!entry) {
      entry = { query: build(db, ...placeholders).compile() };
      compiled.set(adapter, entry);
    }
    const { query } = entry;
    const parameters = query.parameters.map((p) => (p instanceof Placeholder ? args[p.index] : p));
    const held = heldSqliteConnection(db);
    if (held) {
      entry.stmt ??= held.prepareOwn(query.sql);
      return Promise.resolve(runStatement<R>(entry.stmt, parameters));
    }
    return db.executeQuery<R>({ ...query, parameters });
  };
}

/**
 * A prepared query whose shape follows which columns a row has (`values(row)` of an insert, `set(patch)`
 * of an update): compiled once per column list (a column left undefined is left out, as Kysely does),
 * the row's values and the `extra` arguments bound as parameters. Only for rows of plain values (no
 * SQL expressions). At most `maxShapes` column lists are kept; any further one is built per call.
 */
export function preparedByColumns<Row extends object, X extends unknown[], R>(
  build: (db: Db, row: Row, ...extra: X) => Compilable<R>,
  maxShapes = 64,
): (db: Db, row: Row, ...extra: X) => Promise<QueryResult<R>> {
  const shapes = new Map<string, (db: Db, ...args: unknown[]) => Promise<QueryResult<R>>>();
  return (db, row, ...extra) => {
    const columns = Object.keys(row).filter((k) => (row as Record<string, unknown>)[k] !== undefined);
    const key = columns.join(',');
    let query = shapes.get(key);
    if (!query) {
      if (shapes.size >= maxShapes) return db.executeQuery(build(db, row, ...extra).compile());
      query = preparedQuery(columns.length + extra.length, (qdb, ...args: unknown[]) =>
        build(
          qdb,
          Object.fromEntries(columns.map((c, i) => [c, args[i]])) as Row,
          ...(args.slice(columns.length) as X),
        ),
      );
      shapes.set(key, query);
    }
    const values: unknown[] = columns.map((c) => (row as Record<string, unknown>)[c]);
    return query(db, ...values, ...extra);
  };
}
