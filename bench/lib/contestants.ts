// The servers a webhook benchmark can drive, each started the same way in its own process: the
// baselines (bench/baselines/, and the durable floor of bench/ingress/) and the daemon itself (the built
// `node dist/main.js serve`). Every contestant runs compiled JavaScript under plain `node`: the baselines
// are compiled by `tsc -p bench/tsconfig.baselines.json` into bench/.build (buildBaselines(), called by
// the runner after `npm run build`), never through the tsx loader while the daemon runs from dist.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { freePort, type ServerProcess, startServer } from './server-process.js';
import { BENCH_APP_SECRET } from './webhook-bodies.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** The daemon's root API token in benchmarks (for /metrics). */
export const DAEMON_ROOT_TOKEN = 'bench_root_token_0123456789';

export type ContestantName = 'node:http' | 'hono+sqlite' | 'hono+sqlite group' | 'whatsapp-api-js' | 'daemon';

export interface Contestant {
  name: ContestantName;
  description: string;
  /** Starts it with a fresh database under `dir`. */
  start(dir: string, options?: DaemonOptions): Promise<ServerProcess>;
  /** Rows stored durably by a stopped server (undefined for servers that store nothing). */
  storedRows?(dir: string): number;
}

export interface DaemonOptions {
  /** A configuration document written to CONFIG_PATH (e.g. a `load` section). */
  config?: Record<string, unknown>;
  logLevel?: string;
}

/** Compiles the baseline servers to bench/.build (incremental; a second call costs little). */
export function buildBaselines(): void {
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'bench/tsconfig.baselines.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
}

function compiledServer(name: ContestantName, file: string, dir: string): Promise<ServerProcess> {
  const compiled = path.join(ROOT, 'bench/.build', file.replace(/\.ts$/, '.js'));
  if (!existsSync(compiled)) buildBaselines();
  return freePort().then((port) =>
    startServer({
      name,
      command: process.execPath,
      args: [compiled],
      cwd: ROOT,
      env: { PORT: String(port), APP_SECRET: BENCH_APP_SECRET, DATABASE_PATH: path.join(dir, 'baseline.db') },
      readyPath: '/',
      port,
      logFile: path.join(dir, `${path.basename(file)}.log`),
    }),
  );
}

function countRows(file: string, table: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

export const contestants: Record<ContestantName, Contestant> = {
  'node:http': {
    name: 'node:http',
    description: 'bare node:http, reads the body and answers 200 (the ceiling)',
    start: (dir) => compiledServer('node:http', 'bench/baselines/node-http-server.ts', dir),
  },
  'hono+sqlite': {
    name: 'hono+sqlite',
    description:
      'Hono, signature check, one SQLite insert (WAL, synchronous=FULL) per request (the per-insert floor)',
    // The ingress benchmark's floor server, reused so both benchmarks compare against the same thing.
    start: (dir) => compiledServer('hono+sqlite', 'bench/ingress/baseline-server.ts', dir),
    storedRows: (dir) => countRows(path.join(dir, 'baseline.db'), 'inbox'),
  },
  'hono+sqlite group': {
    name: 'hono+sqlite group',
    description:
      'Hono, signature check, the inserts of one event-loop turn in one SQLite commit (WAL, synchronous=FULL): the group-commit floor',
    start: (dir) => compiledServer('hono+sqlite group', 'bench/baselines/group-commit-server.ts', dir),
    storedRows: (dir) => countRows(path.join(dir, 'baseline.db'), 'inbox'),
  },
  'whatsapp-api-js': {
    name: 'whatsapp-api-js',
    description: 'whatsapp-api-js node-http middleware: signature check and dispatch, stores nothing (peer)',
    start: (dir) => compiledServer('whatsapp-api-js', 'bench/baselines/whatsapp-api-js-server.ts', dir),
  },
  daemon: {
    name: 'daemon',
    description: 'native-whatsapp (dist/main.js serve): signature, group-committed inbox, processing',
    async start(dir, options = {}) {
      const port = await freePort();
      const env: Record<string, string> = {
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_PATH: path.join(dir, 'daemon.db'),
        WHATSAPP_APP_SECRET: BENCH_APP_SECRET,
        WHATSAPP_VERIFY_TOKEN: 'bench_verify_token',
        API_ROOT_TOKEN: DAEMON_ROOT_TOKEN,
        // What an operator runs: JSON logs at info, one line per request.
        LOG_LEVEL: options.logLevel ?? 'info',
        LOG_FORMAT: 'json',
      };
      if (options.config) {
        const file = path.join(dir, 'bench-config.json');
        writeFileSync(file, JSON.stringify(options.config));
        env.CONFIG_PATH = file;
      }
      return startServer({
        name: 'daemon',
        command: process.execPath,
        args: [path.join(ROOT, 'dist/main.js'), 'serve'],
        cwd: ROOT,
        env,
        readyPath: '/readyz',
        readyStatus: 200,
        port,
        logFile: path.join(dir, 'daemon.log'),
      });
    },
    storedRows: (dir) => countRows(path.join(dir, 'daemon.db'), 'inbox'),
  },
};
