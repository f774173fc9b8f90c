// The database engines a test runs on (SPEC §10): SQLite always; PostgreSQL too when
// TEST_DATABASE_URL points at a server (CI sets it). Each PostgreSQL test database is a copy of a
// template migrated once per migration set (`CREATE DATABASE ... TEMPLATE`, tens of milliseconds
// instead of a second of migrations), and is dropped when the test closes it.
//
// Two ways to use it:
// - `engines` / `openTestDatabase(engine)`: a test that runs itself on every engine (e.g. claim races).
// - `testEngine()`: the engine of this pass. `npm run test:pg` (vitest.pg.config.ts) sets
//   TEST_ENGINE=postgres, and every test app (test-app.ts) is then built on PostgreSQL.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type OpenedDatabase, openDatabase, openPostgres, type SqliteHandle } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';

export type TestEngine = 'sqlite' | 'postgres';

const adminUrl = process.env.TEST_DATABASE_URL;

/** Every engine available to this run: SQLite, and PostgreSQL when TEST_DATABASE_URL is set. */
export const engines: TestEngine[] = adminUrl ? ['sqlite', 'postgres'] : ['sqlite'];

/** The engine test apps use in this pass (TEST_ENGINE=postgres in the PostgreSQL pass). */
export function testEngine(): TestEngine {
  if (process.env.TEST_ENGINE !== 'postgres') return 'sqlite';
  if (!adminUrl)
    throw new Error(
      'TEST_ENGINE=postgres needs TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)',
    );
  return 'postgres';
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A name for the migrated template that changes whenever a migration (or its translation) does. */
function templateName(): string {
  const h = createHash('sha256');
  const dir = path.join(root, 'migrations');
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(path.join(dir, f)));
  for (const f of ['src/store/dialect.ts', 'src/store/migrate.ts', 'src/store/postgres.ts'])
    h.update(readFileSync(path.join(root, f)));
  return `nw_tpl_${h.digest('hex').slice(0, 16)}`;
}

function urlFor(database: string): string {
  const u = new URL(adminUrl as string);
  u.pathname = `/${database}`;
  return u.toString();
}

let admin: pg.Pool | undefined;
function adminPool(): pg.Pool {
  admin ??= new pg.Pool({ connectionString: adminUrl, max: 2, allowExitOnIdle: true });
  return admin;
}

let template: Promise<string> | undefined;

/** The migrated template database, made once by whichever test process gets there first. */
function ensureTemplate(): Promise<string> {
  template ??= (async () => {
    const name = templateName();
    const client = await adminPool().connect();
    try {
      // Every test process (and every helper's run on this server) may race here: one builds it.
      await client.query('select pg_advisory_lock(hashtext($1))', [name]);
      const found = await client.query('select 1 from pg_database where datname = $1', [name]);
      if (found.rowCount === 0) {
        const building = `${name}_b${randomBytes(4).toString('hex')}`;
        await client.query(`create database ${building}`);
        const handle = openPostgres(urlFor(building));
        try {
          await migrateToLatest(handle.db);
        } finally {
          await handle.close();
        }
        // Renamed only once complete: no one ever copies a half-migrated template.
        await client.query(`alter database ${building} rename to ${name}`);
      }
      await client.query('select pg_advisory_unlock(hashtext($1))', [name]);
      return name;
    } finally {
      client.release();
    }
  })();
  template.catch(() => {
    template = undefined;
  });
  return template;
}

let counter = 0;

export interface PostgresTestDatabase {
  url: string;
  name: string;
  /**
   * The test is done with it (every connection of its own closed first). In the PostgreSQL pass the
   * database is emptied back to the template's state and handed to the process's next test; else, or
   * when it cannot be proven clean, it is dropped.
   */
  drop(): Promise<void>;
}

/** What a fresh copy of the template holds: its tables, their seed rows and sequence positions. */
interface Pristine {
  tables: string[];
  seeds: { table: string; rows: string }[];
  sequences: { name: string; last: number | null }[];
}

const BOOKKEEPING = new Set(['kysely_migration', 'kysely_migration_lock']);
let pristine: Promise<Pristine> | undefined;
const free: { url: string; name: string }[] = [];

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function readPristine(url: string): Promise<Pristine> {
  return withClient(url, async (c) => {
    const tables = (
      await c.query<{ t: string }>("select tablename t from pg_tables where schemaname = 'public' order by 1")
    ).rows
      .map((r) => r.t)
      .filter((t) => !BOOKKEEPING.has(t));
    const seeds: Pristine['seeds'] = [];
    for (const table of tables) {
      const r = await c.query<{ rows: string }>(
        `select coalesce(json_agg(t), '[]')::text as rows from ${table} t`,
      );
      const rows = r.rows[0]?.rows ?? '[]';
      if (rows !== '[]') seeds.push({ table, rows });
    }
    const sequences = (
      await c.query<{ name: string; last: string | null }>(
        "select sequencename as name, last_value::text as last from pg_sequences where schemaname = 'public'",
      )
    ).rows.map((r) => ({ name: r.name, last: r.last === null ? null : Number(r.last) }));
    return { tables, seeds, sequences };
  });
}

/**
 * Empties a used test database back to the template's state, or answers false when it cannot be
 * sure it is clean (a connection still open, a trigger or function a test created, another table).
 */
async function resetToPristine(url: string): Promise<boolean> {
  const p = await (pristine as Promise<Pristine>);
  return withClient(url, async (c) => {
    // A closed pool's server processes may take a moment to go: wait a little for them.
    for (let i = 0; ; i++) {
      const open = await c.query<{ n: string }>(
        'select count(*) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
      );
      if (Number(open.rows[0]?.n) === 0) break;
      if (i === 10) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    const dirt = await c.query<{ n: string }>(
      `select (select count(*) from pg_trigger where not tgisinternal)
            + (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public')
            + abs((select count(*) from pg_tables where schemaname = 'public') - $1) as n`,
      [p.tables.length + BOOKKEEPING.size],
    );
    if (Number(dirt.rows[0]?.n) !== 0) return false;
    await c.query('begin');
    // Foreign keys are not checked while emptying (replica role): the order of deletes does not matter.
    await c.query('set local session_replication_role = replica');
    for (const t of p.tables) await c.query(`delete from ${t}`);
    for (const s of p.seeds)
      await c.query(
        `insert into ${s.table} select * from json_populate_recordset(null::${s.table}, $1::json)`,
        [s.rows],
      );
    for (const q of p.sequences)
      await c.query(q.last === null ? 'select setval($1, 1, false)' : 'select setval($1, $2, true)', [
        q.name,
        ...(q.last === null ? [] : [q.last]),
      ]);
    await c.query('commit');
    return true;
  });
}

/**
 * A fresh, migrated PostgreSQL database of its own: a copy of the template, or in the PostgreSQL pass
 * an earlier test's database emptied back to the template's state (a copy costs about half a second
 * of the server's I/O, emptying a few milliseconds).
 */
export async function createPostgresTestDatabase(): Promise<PostgresTestDatabase> {
  const reused = free.pop();
  const db = reused ?? (await copyTemplate());
  pristine ??= readPristine(db.url);
  await pristine;
  let done = false;
  return {
    url: sessionUrl(db.url),
    name: db.name,
    async drop() {
      if (done) return;
      done = true;
      const reusable =
        process.env.TEST_PG_RUN !== undefined && (await resetToPristine(db.url).catch(() => false));
      if (reusable) free.push(db);
      else await adminPool().query(`drop database if exists ${db.name} with (force)`);
    },
  };
}

/**
 * Test databases commit without waiting for the WAL flush (synchronous_commit=off): a test never
 * survives a server crash anyway, and a flush per commit made the PostgreSQL pass several times slower.
 */
function sessionUrl(url: string): string {
  const u = new URL(url);
  u.searchParams.set('options', '-c synchronous_commit=off');
  return u.toString();
}

async function copyTemplate(): Promise<{ url: string; name: string }> {
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  const tpl = await ensureTemplate();
  // The run's prefix (pg-global-setup.ts) lets its teardown drop whatever a failed test left.
  const run = process.env.TEST_PG_RUN ?? 'x';
  const name = `nwt_${run}_${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;
  await adminPool().query(`create database ${name} template ${tpl}`);
  return { url: urlFor(name), name };
}

export interface TestDatabase {
  engine: TestEngine;
  handle: OpenedDatabase;
  /** The PostgreSQL URL (to open more connections, e.g. a second worker), when on PostgreSQL. */
  url?: string;
  close(): Promise<void>;
}

/** A migrated database of its own on `engine` (SQLite: in memory). */
export async function openTestDatabase(engine: TestEngine = testEngine()): Promise<TestDatabase> {
  if (engine === 'sqlite') {
    const handle = openDatabase(':memory:');
    await migrateToLatest(handle.db);
    return { engine, handle, close: () => handle.close() };
  }
  const created = await createPostgresTestDatabase();
  const handle = openPostgres(created.url);
  return {
    engine,
    handle,
    url: created.url,
    async close() {
      await handle.close();
      await created.drop();
    },
  };
}

/** The SQLite handle of a test that is about SQLite itself (pragmas, file modes, its backup API). */
export function sqliteHandle(handle: OpenedDatabase): SqliteHandle {
  if (handle.engine !== 'sqlite')
    throw new Error('this test is about SQLite; build its app with engine: sqlite');
  return handle;
}

/** An empty PostgreSQL database (no migrations), dropped by `drop()`. */
export async function createEmptyPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `nwt_${process.env.TEST_PG_RUN ?? 'x'}_${process.pid}_${++counter}_e${randomBytes(3).toString('hex')}`;
  await adminPool().query(`create database ${name}`);
  return {
    url: urlFor(name),
    drop: async () => {
      await adminPool().query(`drop database if exists ${name} with (force)`);
    },
  };
}

/** A migrated PostgreSQL database and a second pool on it, for a test about two connections racing. */
export interface PostgresPair {
  /** The test database (its handle is the first connection). */
  t: TestDatabase;
  /** Another pool on the same database: a second worker, or another instance. */
  other: OpenedDatabase;
}

/**
 * A fresh PostgreSQL pair for each test of the file (beforeEach/afterEach), or nothing when the run
 * has no PostgreSQL: read `pair.t` / `pair.other` inside tests that skip without it.
 */
export function postgresPairPerTest(hooks: {
  beforeEach(fn: () => Promise<void>): void;
  afterEach(fn: () => Promise<void>): void;
}): PostgresPair {
  const pair = {} as PostgresPair;
  hooks.beforeEach(async () => {
    if (!engines.includes('postgres')) return;
    pair.t = await openTestDatabase('postgres');
    pair.other = openPostgres(pair.t.url as string);
  });
  hooks.afterEach(async () => {
    if (!engines.includes('postgres')) return;
    await pair.other.close();
    await pair.t.close();
  });
  return pair;
}
