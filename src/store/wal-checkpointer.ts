// WAL checkpoints off the event loop. SQLite copies the WAL back into the database file from the
// connection whose commit takes the WAL past `wal_autocheckpoint` pages (1,000 by default): about 4 MB
// copied and the file fsynced inside that commit, 7–10 ms during which the daemon's one thread answers
// nothing. At 1,000 deliveries/s every commit writes whole pages of the inbox, its indexes and the
// processing's tables, and that happened about six times a second (bench/ingress: p99 16.2 ms with
// them, 11.0 ms without). So the daemon's connection only checkpoints as a backstop (past
// BACKSTOP_PAGES, should this thread stall or die) and a worker thread with its own connection runs a
// PASSIVE checkpoint every `everyMs`: it copies what no reader still needs, never waits for or blocks
// the daemon's writers, and its fsync happens on its own thread. The WAL restarts from its beginning
// at the next write after a checkpoint that copied everything.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Service } from '../lib/service.js';
import type { SqliteHandle } from './db.js';

/** The daemon's own connection checkpoints only past this many WAL pages (about 40 MB). */
export const BACKSTOP_PAGES = 10_000;

export interface WalCheckpointerOptions {
  /** How often the worker checkpoints (ms). */
  everyMs?: number;
}

export interface WalCheckpointer extends Service {
  /** Checkpoints that copied frames so far (for tests and the metrics). */
  checkpoints(): number;
}

// The worker's whole program, run as a CommonJS script (`eval`): the daemon's dist and the tests'
// TypeScript sources need no separate file that both can load. better-sqlite3 comes from the path
// resolved here, so the worker loads the very module the daemon does.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 0 });
db.pragma('synchronous = FULL');
let stopped = false;
const timer = setInterval(() => {
  if (stopped) return;
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    if (r && r.checkpointed > 0) parentPort.postMessage({ checkpointed: r.checkpointed, log: r.log });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message ? err.message : err) });
  }
}, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  stopped = true;
  clearInterval(timer);
  db.close();
  parentPort.postMessage({ stopped: true });
});
`;

export function createWalCheckpointer(
  handle: SqliteHandle,
  logger: Logger,
  options: WalCheckpointerOptions = {},
): WalCheckpointer {
  const log = logger.child({ module: 'store' });
  const everyMs = options.everyMs ?? 50;
  let worker: Worker | undefined;
  let exited = false;
  let count = 0;
  let warned = false;

  return {
    name: 'wal-checkpointer',
    checkpoints: () => count,
    async start() {
      handle.sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
      const driver = createRequire(import.meta.url).resolve('better-sqlite3');
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: handle.path, everyMs, driver } });
      worker = w;
      w.unref();
      w.on('message', (m: { checkpointed?: number; error?: string }) => {
        if (m.checkpointed) count += 1;
        if (m.error && !warned) {
          // Once: a checkpoint that fails (a full disk) fails every 50 ms; the backstop still holds.
          warned = true;
          log.warn({ event: 'store.checkpoint_failed', err: m.error }, 'WAL checkpoint failed');
        }
      });
      exited = false;
      w.once('exit', () => {
        exited = true;
      });
      w.on('error', (err) => {
        // The daemon's connection takes over checkpointing at its usual threshold.
        handle.sqlite.pragma('wal_autocheckpoint = 1000');
        log.error({ event: 'store.checkpointer_failed', err }, 'WAL checkpoint thread failed');
      });
    },
    async stop(deadline) {
      const w = worker;
      worker = undefined;
      if (!w) return;
      handle.sqlite.pragma('wal_autocheckpoint = 1000');
      // A thread that already failed has nothing to stop; waiting for its exit would last the deadline.
      if (exited) return;
      const stopped = new Promise<void>((resolve) => {
        w.on('message', (m: { stopped?: boolean }) => {
          if (m.stopped) resolve();
        });
        w.once('exit', () => resolve());
      });
      w.postMessage('stop');
      await Promise.race([
        stopped,
        new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref()),
      ]);
      await w.terminate();
    },
  };
}
