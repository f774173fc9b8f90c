// The servers a webhook benchmark can drive, each started the same way in its own process: the
// baselines (bench/baselines/, and the durable floor of bench/ingress/) and the daemon itself (the built `node dist/main.js serve`).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { freePort, type ServerProcess, startServer } from './server-process.js';
import { BENCH_APP_SECRET } from './webhook-bodies.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** The daemon's root API token in benchmarks (for /metrics). */
export const DAEMON_ROOT_TOKEN = 'bench_root_token_0123456789';

export type ContestantName = 'node:http' | 'hono+sqlite' | 'whatsapp-api-js' | 'daemon';

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

function tsxServer(name: ContestantName, file: string, dir: string): Promise<ServerProcess> {
  return freePort().then((port) =>
    startServer({
      name,
      command: process.execPath,
      args: ['--import', 'tsx', path.join(ROOT, file)],
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
    start: (dir) => tsxServer('node:http', 'bench/baselines/node-http-server.ts', dir),
  },
  'hono+sqlite': {
    name: 'hono+sqlite',
    description:
      'Hono, signature check, one SQLite insert (WAL, synchronous=FULL) per request (the durable floor)',
    // The ingress benchmark's floor server, reused so both benchmarks compare against the same thing.
    start: (dir) => tsxServer('hono+sqlite', 'bench/ingress/baseline-server.ts', dir),
    storedRows: (dir) => countRows(path.join(dir, 'baseline.db'), 'inbox'),
  },
  'whatsapp-api-js': {
    name: 'whatsapp-api-js',
    description: 'whatsapp-api-js node-http middleware: signature check and dispatch, stores nothing (peer)',
    start: (dir) => tsxServer('whatsapp-api-js', 'bench/baselines/whatsapp-api-js-server.ts', dir),
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
