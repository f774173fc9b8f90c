// Group commit for the inbox. Every accepted delivery must be durable before its 200, and with
// synchronous=FULL each commit costs an fsync (about half a millisecond on a plain disk, during
// which SQLite blocks the event loop). So deliveries arriving together are written together: the
// first append schedules a flush for the next turn of the event loop, every append until then joins
// it, and all of them are answered after that one commit. While a flush runs, new arrivals gather for
// the next one. Bounded: past `maxQueuedBytes` waiting, appends are refused with 503 + Retry-After.
import type { Logger } from 'pino';
import { AppError } from '../lib/app-error.js';
import type { Service } from '../lib/service.js';
import type { IngressSignal } from '../lib/yield-to-ingress.js';
import type { Db } from '../store/db.js';
import { type InboxRow, inboxRepo } from '../store/inbox-repo.js';

export interface InboxWriterOptions {
  /** Rows per multi-row insert (SQLite binds 9 parameters per row; keep well under its limit). */
  maxBatchRows?: number;
  /** Body bytes allowed to wait for a commit before new deliveries are refused. */
  maxQueuedBytes?: number;
  /**
   * The longest a commit under load waits after the previous one started (see commitSpacingFactor).
   * The fsync blocks the event loop, and deliveries arriving one by one would otherwise each get their
   * own, keeping the disk (and the loop) busy when load is high; an idle writer commits a lone delivery
   * at once.
   */
  minCommitIntervalMs?: number;
  /**
   * Under load a commit starts this many times the last commit's duration after the last one started,
   * up to minCommitIntervalMs: at most half of the loop (the default, 2) goes to committing, and at a
   * moderate rate a delivery waits for a commit about as long as a commit takes, not a fixed 4 ms (at
   * 1,000/s in bench/ingress: p50 3.3 against 4.4 ms, with the processor's 2 ms slices).
   */
  commitSpacingFactor?: number;
  /** Called after each successful commit (wakes the inbox processor). */
  onCommitted?: () => void;
}

export interface InboxWriter extends Service, IngressSignal {
  /** Resolves once the row is committed; rejects if the commit failed or the queue is full. */
  append(row: InboxRow): Promise<void>;
  /** Rows waiting for a commit right now. */
  queued(): number;
  /**
   * Marks a delivery as being received (body still arriving or being checked); call the returned
   * function when its answer is decided. Ingress counts as busy while any delivery is.
   */
  receiving(): () => void;
}

interface Waiting {
  row: InboxRow;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function createInboxWriter(
  deps: { db: Db; logger: Logger },
  options: InboxWriterOptions = {},
): InboxWriter {
  const log = deps.logger.child({ module: 'ingress' });
  const maxBatchRows = options.maxBatchRows ?? 256;
  const maxQueuedBytes = options.maxQueuedBytes ?? 256 * 1024 * 1024;
  const minInterval = options.minCommitIntervalMs ?? 4;
  const spacingFactor = options.commitSpacingFactor ?? 2;
  let lastCommitStart = Number.NEGATIVE_INFINITY;
  let lastCommitMs = 0;
  let queue: Waiting[] = [];
  let queuedBytes = 0;
  let scheduled = false;
  let flushing: Promise<void> | undefined;
  let idleWaiters: (() => void)[] = [];
  let receivingCount = 0;
  let lastArrival = Number.NEGATIVE_INFINITY;

  const isIdle = () => !scheduled && !flushing && queue.length === 0 && receivingCount === 0;

  function notifyIfIdle(): void {
    if (!isIdle() || idleWaiters.length === 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  function schedule(): void {
    if (scheduled || flushing) return;
    scheduled = true;
    const run = () => {
      scheduled = false;
      lastCommitStart = performance.now();
      flushing = flush().finally(() => {
        lastCommitMs = performance.now() - lastCommitStart;
        flushing = undefined;
        if (queue.length > 0) schedule();
        else notifyIfIdle();
      });
    };
    // setImmediate runs after the current I/O phase: every request whose body arrived in this
    // phase has appended by then and shares the commit. Under load, the next commit waits for
    // the spacing so that more deliveries share it.
    const spacing = Math.min(minInterval, spacingFactor * lastCommitMs);
    const wait = lastCommitStart + spacing - performance.now();
    if (wait <= 0) setImmediate(run);
    else setTimeout(run, wait);
  }

  async function flush(): Promise<void> {
    const batch = queue.slice(0, maxBatchRows);
    queue = queue.slice(batch.length);
    try {
      await inboxRepo.insertMany(
        deps.db,
        batch.map((w) => w.row),
      );
    } catch (err) {
      log.error(
        { event: 'ingress.commit_failed', err, rows: batch.length },
        'could not commit deliveries to the inbox',
      );
      for (const w of batch) w.reject(err);
      return;
    } finally {
      for (const w of batch) queuedBytes -= w.row.body.length;
    }
    for (const w of batch) w.resolve();
    options.onCommitted?.();
  }

  return {
    name: 'inbox-writer',
    append(row) {
      if (queuedBytes + row.body.length > maxQueuedBytes && queue.length > 0) {
        return Promise.reject(
          new AppError(
            'overloaded',
            'too many deliveries are waiting to be stored; retry shortly',
            undefined,
            { 'Retry-After': '1' },
          ),
        );
      }
      queuedBytes += row.body.length;
      lastArrival = performance.now();
      return new Promise<void>((resolve, reject) => {
        queue.push({ row, resolve, reject });
        schedule();
      });
    },
    queued: () => queue.length,
    receiving() {
      receivingCount += 1;
      lastArrival = performance.now();
      let done = false;
      return () => {
        if (done) return;
        done = true;
        receivingCount -= 1;
        notifyIfIdle();
      };
    },
    arrivedSince: (since) => lastArrival >= since,
    // The inbox processor and responder defer to ingress so that a 200 never waits behind their work.
    idle() {
      if (isIdle()) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    start() {},
    async stop() {
      // Requests still waiting for their commit get it: the server stops first and waits for them.
      while (flushing || scheduled || queue.length > 0) {
        if (flushing) await flushing;
        else await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}
