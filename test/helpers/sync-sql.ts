// Synchronous SQL against a test's PostgreSQL database, so the suite's synchronous row readers
// (test/inbox/db-view.ts: `rows(t, sql)`, `one(t, sql)`) read either engine without every assertion
// becoming async. A worker thread runs the query with `pg`; this thread blocks on a shared flag until
// the worker has posted the answer. Tests only: it blocks the event loop for the query's duration.
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';

let worker: { w: Worker; port: MessagePort } | undefined;

type MessagePort = import('node:worker_threads').MessagePort;

function start(): { w: Worker; port: MessagePort } {
  if (worker) return worker;
  const { port1, port2 } = new MessageChannel();
  const w = new Worker(new URL('./sync-sql-worker.mjs', import.meta.url), {
    workerData: { port: port2 },
    transferList: [port2],
  });
  w.unref();
  worker = { w, port: port1 };
  return worker;
}

/** SQLite's `?` placeholders as PostgreSQL's `$1, $2, ...` (outside quoted text). */
export function toPgPlaceholders(sql: string): string {
  let n = 0;
  let quoted = false;
  let out = '';
  for (const ch of sql) {
    if (ch === "'") quoted = !quoted;
    out += ch === '?' && !quoted ? `$${++n}` : ch;
  }
  return out;
}

function call(message: Record<string, unknown>): { rows: Record<string, unknown>[]; rowCount: number } {
  const { w, port } = start();
  const signal = new Int32Array(new SharedArrayBuffer(4));
  w.postMessage({ ...message, signal });
  if (Atomics.wait(signal, 0, 0, 30_000) === 'timed-out') throw new Error('sync-sql: no answer in 30 s');
  const reply = receiveMessageOnPort(port)?.message as
    | { rows: Record<string, unknown>[]; rowCount: number; error?: { message: string; code?: string } }
    | undefined;
  if (!reply) throw new Error('sync-sql: the worker answered nothing');
  if (reply.error) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
  return reply;
}

/** Runs `sql` (with `?` placeholders) on the database at `url` and returns its rows and row count. */
export function pgQuerySync(
  url: string,
  sql: string,
  params: unknown[] = [],
): { rows: Record<string, unknown>[]; rowCount: number } {
  return call({ url, text: toPgPlaceholders(sql), params });
}

/** Closes the worker's connection to `url` (before the database is dropped). */
export function pgReleaseSync(url: string): void {
  if (worker) call({ url, close: true });
}
