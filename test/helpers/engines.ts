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
  /** Drops the database (connections still open to it are terminated). */
  drop(): Promise<void>;
}

let spare: Promise<PostgresTestDatabase> | undefined;

/**
 * A fresh, migrated PostgreSQL database of its own. Copying the template costs about half a second of
 * the server's I/O, so the next test's copy is started now and made while this test runs (in the
 * PostgreSQL pass only: a lone concurrency test elsewhere should not leave a spare behind; the pass's
 * teardown drops the last one).
 */
export async function createPostgresTestDatabase(): Promise<PostgresTestDatabase> {
  const taken = spare;
  spare = undefined;
  const db = (await taken?.catch(() => undefined)) ?? (await copyTemplate());
  if (process.env.TEST_PG_RUN) {
    spare = copyTemplate();
    spare.catch(() => undefined);
  }
  return db;
}

async function copyTemplate(): Promise<PostgresTestDatabase> {
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  const tpl = await ensureTemplate();
  // The run's prefix (pg-global-setup.ts) lets its teardown drop whatever a failed test left.
  const run = process.env.TEST_PG_RUN ?? 'x';
  const name = `nwt_${run}_${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;
  await adminPool().query(`create database ${name} template ${tpl}`);
  let dropped = false;
  return {
    url: urlFor(name),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await adminPool().query(`drop database if exists ${name} with (force)`);
    },
  };
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
