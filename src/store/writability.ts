// Whether the daemon may write its database right now. An operator who makes the database file (or its
// directory) read-only under a running daemon, a read-only remount, or a full disk must stop the daemon
// from writing: SQLite keeps the file descriptor it opened read-write (and root ignores mode bits), so
// writes would go on "succeeding" into a file the next start cannot open for writing, and webhooks
// answered 200 meanwhile would be lost then. So the file's mode bits and access are probed (/readyz
// and every second), and real write errors that say the file cannot be written latch the same state;
// while it holds, ingress answers 503 + Retry-After (Meta retries) and background workers pause.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { Db } from './db.js';

export interface StoreWritability {
  /** True while writes may go ahead (the last probe passed and no write error is latched). */
  writable(): boolean;
  /** Why the store is not writable, or null. */
  reason(): string | null;
  /** Probes the files now and returns the reason, or null when writable. */
  probe(): Promise<string | null>;
  /** A write failed: true (and latched until a probe write succeeds) when the error means "cannot write". */
  noteWriteError(err: unknown): boolean;
  /** Called on every change between writable and not writable. */
  onChange(listener: (writable: boolean, reason: string | null) => void): void;
  /** Probes every `everyMs` (real time) until stop(). */
  start(everyMs?: number): void;
  stop(): void;
}

/**
 * Error codes that mean "cannot write": SQLite result codes (better-sqlite3's err.code, extended codes
 * included), and PostgreSQL SQLSTATEs: 25006 read-only transaction (a standby, or
 * default_transaction_read_only), 53100 disk full, 58030 I/O error.
 */
const CANNOT_WRITE = /^(SQLITE_(READONLY|IOERR|FULL|CANTOPEN)|25006$|53100$|58030$)/;

export function isCannotWriteError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CANNOT_WRITE.test(code);
}

/**
 * Why `file` (and its WAL and directory) cannot be written, or null. Mode bits are checked as well as
 * access(2): root passes access(W_OK) on a 0444 file, but an operator who removed every write bit
 * means "read-only" all the same. access(2) also reports a read-only file system (EROFS) to root.
 */
export function fileProblem(file: string | null): string | null {
  // PostgreSQL (null): no file of ours; its write errors latch the state like SQLite's do.
  if (file === null || file === ':memory:' || file === '') return null;
  const abs = path.resolve(file);
  const targets: { p: string; what: string; optional: boolean }[] = [
    { p: abs, what: 'database file', optional: false },
    { p: `${abs}-wal`, what: 'database WAL file', optional: true },
    { p: path.dirname(abs), what: 'database directory', optional: false },
  ];
  for (const t of targets) {
    let mode: number;
    try {
      mode = statSync(t.p).mode;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (t.optional && code === 'ENOENT') continue;
      return `the ${t.what} ${t.p} cannot be read (${code ?? (err as Error).message})`;
    }
    if ((mode & 0o222) === 0) {
      return `the ${t.what} ${t.p} is read-only (mode ${(mode & 0o777).toString(8).padStart(4, '0')})`;
    }
    try {
      accessSync(t.p, constants.W_OK);
    } catch (err) {
      return `the ${t.what} ${t.p} is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
    }
  }
  return null;
}

export function createStoreWritability(deps: {
  db: Db;
  /** The SQLite file, or null on PostgreSQL. */
  file: string | null;
  /** A clock for the probe row's time (the daemon's clock). */
  now: () => number;
  onError?: (err: unknown) => void;
}): StoreWritability {
  let fsReason: string | null = null;
  let latched: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let probing: Promise<string | null> | undefined;
  const listeners: ((writable: boolean, reason: string | null) => void)[] = [];
  let lastWritable = true;

  const reason = () => fsReason ?? latched;

  function notify(): void {
    const now = reason() === null;
    if (now === lastWritable) return;
    lastWritable = now;
    for (const l of listeners) l(now, reason());
  }

  /** A write that must reach the file: only tried while a write error is latched. */
  async function writeProbe(): Promise<boolean> {
    try {
      const at = deps.now();
      await deps.db
        .insertInto('settings')
        .values({ key: 'store.write_probe', value: String(at), updated_at: at })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(at), updated_at: at }))
        .execute();
      return true;
    } catch (err) {
      deps.onError?.(err);
      return false;
    }
  }

  async function probeOnce(): Promise<string | null> {
    fsReason = fileProblem(deps.file);
    if (fsReason === null && latched !== null && (await writeProbe())) latched = null;
    notify();
    return reason();
  }

  function probe(): Promise<string | null> {
    probing ??= probeOnce().finally(() => {
      probing = undefined;
    });
    return probing;
  }

  return {
    writable: () => reason() === null,
    reason,
    probe,
    noteWriteError(err) {
      if (!isCannotWriteError(err)) return false;
      latched = `a write to the database failed: ${(err as Error).message} (${(err as { code: string }).code})`;
      notify();
      return true;
    },
    onChange(listener) {
      listeners.push(listener);
    },
    start(everyMs = 1000) {
      if (timer) return;
      timer = setInterval(() => void probe(), everyMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
