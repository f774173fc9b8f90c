// Opens PostgreSQL (DATABASE_URL, SPEC §10) as Kysely's Postgres dialect over a `pg` pool. Values come
// back as the SQLite side gives them: int8 (count(*), bigint columns: times in ms) and numeric (sum of
// bigints) as JS numbers. A value that a number cannot hold exactly comes back as a bigint, so any
// arithmetic on it throws instead of silently rounding.
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { AppError } from '../lib/app-error.js';
import type { Database } from './tables.js';

const INT8 = 20;
const NUMERIC = 1700;

function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

function parseNumeric(text: string): number | bigint {
  // sum() over bigint columns answers numeric; whole values go the int8 way, fractions as floats.
  return /^-?\d+$/.test(text) ? parseInt8(text) : Number(text);
}

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary' && oid === INT8) return parseInt8;
    if (format !== 'binary' && oid === NUMERIC) return parseNumeric;
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

export interface PostgresOptions {
  /** How long to wait for a connection (pool exhausted or server unreachable) before failing. */
  connectTimeoutMs?: number;
  max?: number;
  /**
   * A pooled connection failed (server restart, an administrator terminating it, network), idle or
   * checked out: the pool replaces it, and a statement that was to run on it fails instead.
   */
  onConnectionError?: (err: Error) => void;
}

export function openPostgresPool(url: string, options: PostgresOptions = {}): pg.Pool {
  let pool: pg.Pool;
  try {
    pool = new pg.Pool({
      connectionString: url,
      types,
      max: options.max ?? 10,
      connectionTimeoutMillis: Math.round(options.connectTimeoutMs ?? 5000),
      application_name: 'native-whatsapp',
    });
  } catch (err) {
    throw new AppError(
      'database_unavailable',
      `cannot use the database URL ${redactUrl(url)}: ${(err as Error).message}`,
    );
  }
  // Without a listener a connection's error would crash the process. pg-pool listens on idle
  // connections only: one terminated while checked out between two statements of a transaction (an
  // administrator's pg_terminate_backend, a server restart) emitted an unheard 'error' and took the
  // daemon down. Every connection gets its own listener; the pool's one is then redundant (the same
  // error reached through both) but must exist.
  pool.on('connect', (client) => client.on('error', (err) => options.onConnectionError?.(err)));
  pool.on('error', () => undefined);
  return pool;
}

export function postgresKysely(pool: pg.Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
