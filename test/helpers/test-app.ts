// Builds a daemon for a test: its own database (a temporary SQLite file or :memory:, or a PostgreSQL
// database of its own in the PostgreSQL pass, see engines.ts), a fake clock, sequential ids, all
// migrations; no listening socket unless asked. Returns what a test needs to act (request) and to
// inspect (deps, db).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createToken } from '../../src/auth/tokens.js';
import { resolveConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { type Daemon, startDaemon } from '../../src/daemon.js';
import { FakeClock } from '../../src/lib/clock.js';
import { sequentialIds } from '../../src/lib/ids.js';
import { createLogger } from '../../src/observability/logger.js';
import { createPostgresTestDatabase, type TestEngine, testEngine } from './engines.js';
import { pgReleaseSync } from './sync-sql.js';

export const TEST_APP_SECRET = 'test_app_secret_0123456789abcdef';
export const TEST_VERIFY_TOKEN = 'test_verify_token_123';

export interface TestApp {
  engine: TestEngine;
  /** The PostgreSQL database's URL (PostgreSQL only). */
  databaseUrl?: string;
  daemon: Daemon;
  deps: Daemon['deps'];
  clock: FakeClock;
  /** Root and standard bearer tokens created for the test. */
  tokens: { root: string; standard: string };
  /** app.request() with an optional bearer token and JSON body. */
  request(
    path: string,
    init?: { method?: string; body?: unknown; token?: string | null; headers?: Record<string, string> },
  ): Promise<Response>;
  /** Every log line written so far, parsed. */
  logs(): Record<string, unknown>[];
  /** The raw log output. */
  logText(): string;
  dir: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Partial configuration document merged over the test defaults. */
  config?: Record<string, unknown>;
  /** Use a file database in a temp dir (default) or ':memory:'. */
  memory?: boolean;
  /** Reuse an existing database file (e.g. another test app's, to test a restart). SQLite only. */
  databasePath?: string;
  /** Reuse another test app's database (SQLite file or PostgreSQL database), to test a restart. */
  databaseOf?: TestApp;
  /** The engine (default: this pass's, engines.ts `testEngine()`). */
  engine?: TestEngine;
  listen?: boolean;
  start?: number | string;
}

/**
 * The apps opened on another app's database (`databaseOf`, a restart): the owner closes them before it
 * drops the database, whatever order a test closes its apps in. A PostgreSQL database is dropped WITH
 * (FORCE), and a daemon still running on it would lose its connections mid-transaction.
 */
const sharersOf = new WeakMap<TestApp, TestApp[]>();

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nwa-test-'));
  const engine = options.databaseOf?.engine ?? options.engine ?? testEngine();
  const mediaBase = options.databasePath
    ? path.dirname(options.databasePath)
    : (options.databaseOf?.dir ?? dir);
  const pgDb =
    engine === 'postgres' && !options.databaseOf?.databaseUrl
      ? await createPostgresTestDatabase()
      : undefined;
  const databaseUrl = options.databaseOf?.databaseUrl ?? pgDb?.url;
  const sqlitePath =
    options.databasePath ?? (options.databaseOf ? path.join(options.databaseOf.dir, 'test.db') : undefined);
  const base = {
    database: {
      path: sqlitePath ?? (options.memory ? ':memory:' : path.join(dir, 'test.db')),
      ...(databaseUrl ? { url: databaseUrl } : {}),
    },
    log: { level: 'debug', format: 'json' },
    server: { port: 0 },
    channels: { app_secret: TEST_APP_SECRET, verify_token: TEST_VERIFY_TOKEN },
    // Beside the database: a restart on the same file must see the same file layer (its hash decides
    // whether a stored management override still applies).
    media: { dir: path.join(mediaBase, 'media') },
    // Read receipts (on by default) add an outbox row before every answer; tests of other behaviour
    // count rows and Graph calls without them. test/media/outbound.test.ts turns them on.
    outbound: { mark_read: false },
  };
  const { config, sources } = resolveConfig([
    { name: 'test defaults', document: base },
    { name: 'test', document: options.config ?? {} },
  ]);
  let output = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      output += chunk.toString();
      done();
    },
  });
  const secrets: string[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', destination: sink, secrets: () => secrets });
  const clock = new FakeClock(options.start ?? '2026-01-05T08:00:00Z');
  let daemon: Daemon;
  try {
    daemon = await startDaemon({
      config: config as Config,
      layers: sources,
      logger,
      clock,
      ids: sequentialIds(clock),
      listen: options.listen === true,
      // Ticks follow the fake clock only when a test calls scheduler.tick(); a real timer would race it.
      cronTicks: false,
      onSecrets: (v) => secrets.push(...v),
      printOnce: () => undefined,
    });
  } catch (err) {
    await pgDb?.drop();
    throw err;
  }
  const now = clock.now();
  const mk = (tier: 'root' | 'standard') =>
    createToken(
      daemon.deps.db,
      { ids: daemon.deps.ids, random: daemon.deps.random, now },
      { tier, name: `test-${tier}` },
    );
  const root = (await mk('root')).token;
  const standard = (await mk('standard')).token;
  secrets.push(root, standard);

  let closing: Promise<void> | undefined;
  const app: TestApp = {
    engine,
    ...(databaseUrl ? { databaseUrl } : {}),
    daemon,
    deps: daemon.deps,
    clock,
    tokens: { root, standard },
    dir,
    async request(p, init = {}) {
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      const token = init.token === undefined ? root : init.token;
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (init.body !== undefined) {
        body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
        headers['content-type'] ??= 'application/json';
      }
      return daemon.app.app.request(p, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body });
    },
    logs: () =>
      output
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    logText: () => output,
    close() {
      closing ??= (async () => {
        for (const sharer of sharersOf.get(app) ?? []) await sharer.close();
        await daemon.stop();
        rmSync(dir, { recursive: true, force: true });
        if (pgDb) {
          pgReleaseSync(pgDb.url);
          await pgDb.drop();
        }
      })();
      return closing;
    },
  };
  if (options.databaseOf) {
    const owner = options.databaseOf;
    sharersOf.set(owner, [...(sharersOf.get(owner) ?? []), app]);
  }
  return app;
}
