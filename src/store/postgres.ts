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
  /** An idle pooled connection failed (server restart, network): the pool replaces it. */
  onIdleError?: (err: Error) => void;
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
  // Without a listener an idle client's error (the server restarting) would crash the process.
  pool.on('error', (err) => options.onIdleError?.(err));
  return pool;
}

export function postgresKysely(pool: pg.Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
