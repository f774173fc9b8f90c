// Opens the daemon's database: SQLite (the default, one box) with the pragmas the daemon relies on, or
// PostgreSQL when a URL is configured (SPEC §10, store/postgres.ts); both wrapped in Kysely.
// synchronous=FULL: in WAL mode every commit is fsynced to the WAL before it returns, so a webhook
// we answered 200 survives not only kill -9 (which NORMAL already survives) but power loss too.
// The cost is one fsync per transaction, which ingress amortises by committing concurrent
// deliveries together (webhook/inbox-writer.ts).
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type SqliteDatabase, SqliteDialect } from 'kysely';
import type pg from 'pg';
import { AppError } from '../lib/app-error.js';
import { ensurePrivateDir, ensurePrivateFile, makePrivate } from '../lib/private-files.js';
import { InlineLimitPlugin } from './inline-limit.js';
import { openPostgresPool, postgresKysely, redactUrl } from './postgres.js';
import { registerSqliteConnection, type StatementSource } from './raw-sqlite.js';
import type { Database } from './tables.js';

export type Db = Kysely<Database>;

export interface SqliteHandle {
  engine: 'sqlite';
  db: Db;
  /** The raw handle, for the few things Kysely does not do (online backup, pragmas). */
  sqlite: SQLite.Database;
  path: string;
  /** What to call this database in messages: the file. */
  label: string;
  close(): Promise<void>;
}

export interface PostgresHandle {
  engine: 'postgres';
  db: Db;
  pool: pg.Pool;
  /** What to call this database in messages: the URL without its password. */
  label: string;
  close(): Promise<void>;
}

export type OpenedDatabase = SqliteHandle | PostgresHandle;

export interface OpenOptions {
  busyTimeoutMs?: number;
  readonly?: boolean;
}

/** Where the database is: `url` (PostgreSQL) when set, else the SQLite file at `path`. */
export interface DatabaseTarget {
  path: string;
  url?: string | undefined;
  busy_timeout?: number;
}

/** Opens the configured database: PostgreSQL when a URL is set, SQLite otherwise. */
export function openStore(
  target: DatabaseTarget,
  options: OpenOptions & { onConnectionError?: (err: Error) => void } = {},
): OpenedDatabase {
  const busyTimeoutMs = options.busyTimeoutMs ?? target.busy_timeout;
  if (target.url) return openPostgres(target.url, { ...options, busyTimeoutMs });
  return openDatabase(target.path, { ...options, busyTimeoutMs });
}

export function openPostgres(
  url: string,
  options: OpenOptions & { onConnectionError?: (err: Error) => void } = {},
): PostgresHandle {
  const pool = openPostgresPool(url, {
    connectTimeoutMs: options.busyTimeoutMs,
    onConnectionError: options.onConnectionError,
  });
  const db = postgresKysely(pool);
  return {
    engine: 'postgres',
    db,
    pool,
    label: redactUrl(url),
    async close() {
      // Kysely's destroy ends the pool.
      await db.destroy();
    },
  };
}

export function openDatabase(file: string, options: OpenOptions = {}): SqliteHandle {
  const inMemory = file === ':memory:';
  if (!inMemory && !options.readonly) {
    const dir = path.dirname(path.resolve(file));
    try {
      // 0700 / 0600: the database holds generated secrets and conversations. SQLite creates the WAL
      // and SHM files with the database file's own mode, so a 0600 database gives 0600 companions.
      ensurePrivateDir(dir);
      ensurePrivateFile(path.resolve(file));
      makePrivate(`${path.resolve(file)}-wal`, `${path.resolve(file)}-shm`);
    } catch (err) {
      throw new AppError(
        'database_unavailable',
        `cannot create the database directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  let sqlite: SQLite.Database;
  try {
    sqlite = new SQLite(file, {
      readonly: options.readonly === true,
      fileMustExist: options.readonly === true,
    });
    if (!inMemory && !options.readonly) sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(`busy_timeout = ${Math.round(options.busyTimeoutMs ?? 5000)}`);
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('synchronous = FULL');
    // Bounded cache and temp space in memory: a daemon on a small box, not an analytics engine.
    sqlite.pragma('cache_size = -65536');
    sqlite.pragma('temp_store = MEMORY');
  } catch (err) {
    throw new AppError(
      'database_unavailable',
      `cannot open the database at ${path.resolve(file)}: ${(err as Error).message}`,
    );
  }
  const statements = withStatementCache(sqlite);
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: statements }),
    plugins: [new InlineLimitPlugin()],
  });
  registerSqliteConnection(db, statements);
  return {
    engine: 'sqlite',
    db,
    sqlite,
    path: file,
    label: inMemory ? ':memory:' : path.resolve(file),
    async close() {
      // Kysely's destroy closes the underlying better-sqlite3 handle.
      await db.destroy();
    },
  };
}

/**
 * Kysely's SQLite driver calls prepare() for every query, and better-sqlite3 compiles the SQL each
 * time: on the ingress and inbox paths that compile cost more than running the statement. Compiled
 * statements are reused by SQL text (bounded). Safe because Kysely runs one query at a time on this
 * one connection, and SQLite re-prepares a cached statement by itself after a schema change.
 */
function withStatementCache(sqlite: SQLite.Database, max = 2000): SqliteDatabase & StatementSource {
  const cache = new Map<string, SQLite.Statement>();
  const own = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = sqlite.prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
        cache.set(sql, stmt);
      }
      return stmt;
    },
    // Raw mode is a statement's state: these are never the ones Kysely's driver gets from prepare().
    prepareOwn(sql: string) {
      let stmt = own.get(sql);
      if (!stmt) {
        stmt = sqlite.prepare(sql);
        if (stmt.reader) stmt.raw(true);
        if (own.size >= max) own.delete(own.keys().next().value as string);
        own.set(sql, stmt);
      }
      return stmt;
    },
  };
}

/** An online, consistent copy of the database into `target` (restore by copying it back). */
export async function backupDatabase(handle: SqliteHandle, target: string): Promise<{ pages: number }> {
  ensurePrivateDir(path.dirname(path.resolve(target)));
  ensurePrivateFile(target);
  const result = await handle.sqlite.backup(target);
  makePrivate(target, `${target}-wal`, `${target}-shm`, `${target}-journal`);
  return { pages: result.totalPages };
}

/** True when the database answers a trivial query. */
export async function ping(handle: OpenedDatabase): Promise<boolean> {
  try {
    if (handle.engine === 'sqlite') handle.sqlite.prepare('select 1').get();
    else await handle.pool.query('select 1');
    return true;
  } catch {
    return false;
  }
}
