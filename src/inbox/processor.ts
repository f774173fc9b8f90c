// The inbox processor: a background service that turns committed deliveries into their effects.
// Woken after each ingress commit and by a timer (for retries), it takes due pending rows in received
// order; the rows of one time slice share one transaction, so a burst costs one fsync per slice instead
// of one per delivery. A row that fails is retried with backoff and finally parked as dead; unprocessed
// rows are picked up again on start. A slice runs without savepoints: when a row fails, the whole slice
// is rolled back and run again with a savepoint per row, so only the failing row's effects are undone.
// Rows are claimed in one statement with this instance as owner and a lease (SPEC §10, store/inbox-repo.ts):
// another daemon on the same PostgreSQL passes over them, and takes them only once the lease ran out;
// on SQLite the claim is part of the slice's own transaction (claimFor).
// Over 300 lines on purpose: the slice loop, its budget and retries share the processor's state; what a delivery does is process-delivery.ts.

import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { recordingTogether } from '../events/record-event.js';
import type { Clock } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import type { Service } from '../lib/service.js';
import { createWakeLoop } from '../lib/wake-loop.js';
import { type IngressSignal, yieldToIngress } from '../lib/yield-to-ingress.js';
import type { Metrics } from '../observability/metrics.js';
import type { Db } from '../store/db.js';
import { engineOf } from '../store/dialect.js';
import { type InboxRow, inboxRepo } from '../store/inbox-repo.js';
import { withRedoableTransaction, withSavepoint } from '../store/transactions.js';
import { createBacklogProbe } from './backlog-probe.js';
import { PermanentDeliveryError } from './delivery-errors.js';
import { type DeliverySummary, processDelivery } from './process-delivery.js';
import { DEFAULT_SHARE, processingShare, type ShareOptions } from './processing-share.js';
import { nextAttempt } from './retry-policy.js';

export interface InboxProcessorDeps {
  db: Db;
  /** This daemon's instance id: the owner of the rows it claims. */
  owner: string;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  metrics: Metrics;
  config: () => Config;
  /** True while the database must not be written (store/writability.ts): no new work is taken. */
  paused?: () => boolean;
  /** Called after each committed slice: the engine may have left work (responder jobs) to pick up. */
  onSliceCommitted?: () => void;
  /**
   * Webhook ingress. The processor runs its next slice when ingress is quiet, so a delivery's 200
   * waits for its own commit rather than for a slice of processing, and while deliveries keep
   * arriving it takes at most its share of the event loop (processing-share.ts, lib/yield-to-ingress.ts).
   */
  ingress?: IngressSignal;
}

export interface InboxProcessorOptions {
  /**
   * How long one transaction may keep processing before it commits and lets the event loop serve
   * requests (SQLite work is synchronous: a long slice would delay webhook answers). 2 ms: a delivery
   * arriving during a slice waits for its end, and at 1,000/s 5 ms slices put the webhook's p50 at
   * 4.4 ms against 3.3 (bench/ingress, alternated runs with commitSpacingFactor in inbox-writer.ts).
   */
  sliceMs?: number;
  /**
   * The longer slice used while no delivery has arrived for a while: a commit costs an fsync, and
   * catching up after a burst in short slices would spend much of its time committing.
   */
  idleSliceMs?: number;
  /**
   * The shortest slice on PostgreSQL. There a slice mostly waits for the server (one round trip per
   * statement, about 30 per delivery) with the event loop free meanwhile, so sliceMs would cut it
   * after one or two deliveries: each then paid a slice's own claim, commits and lease statements
   * (bench/profile-processing.ts --database-url counted one claim and two commits per delivery).
   */
  remoteSliceMs?: number;
  /** How often the timer looks for retries that became due. */
  pollMs?: number;
  /** The longest a slice waits for ingress to be quiet (a floor on processing under load). */
  maxDeferMs?: number;
  /** The share of the event loop processing may take while deliveries keep arriving (processing-share.ts). */
  share?: ShareOptions;
}

const MIN_FETCH = 16;
/**
 * How long a claim holds its rows. A slice lasts milliseconds (sliceMs, maxDeferMs); a minute covers
 * a stalled event loop many times over, and is how long a crashed instance's rows wait for another.
 */
const LEASE_MS = 60_000;
/** Ingress counts as quiet when no delivery arrived for this long (ms). */
const QUIET_FOR_MS = 100;

export interface InboxProcessor extends Service {
  /** Something was committed to the inbox: process it soon. Cheap; calls coalesce. */
  wake(): void;
  /**
   * Processes until no pending row is due that this instance could take (for tests, tools and
   * shutdown); rows under another instance's live lease are left to it.
   */
  drain(): Promise<void>;
}

/**
 * A slice's rows, taken inside its transaction (claimFor), and how many the claim got (on PostgreSQL
 * some may since have been taken over).
 */
type Take = (trx: Db) => Promise<{ rows: InboxRow[]; claimed: number }>;

/** What a slice did, and whether it reached every row it claimed. */
interface Slice {
  outcomes: Outcome[];
  claimed: number;
  reachedAll: boolean;
}

type Outcome =
  | { row: InboxRow; kind: 'processed'; summary: DeliverySummary }
  | { row: InboxRow; kind: 'retry'; error: string; attempts: number; at: number }
  | { row: InboxRow; kind: 'dead'; error: string; attempts: number };

export function createInboxProcessor(
  deps: InboxProcessorDeps,
  options: InboxProcessorOptions = {},
): InboxProcessor {
  const log = deps.logger.child({ module: 'inbox' });
  const sliceMs = options.sliceMs ?? 2;
  const idleSliceMs = Math.max(sliceMs, options.idleSliceMs ?? 20);
  const maxDeferMs = options.maxDeferMs ?? 50;
  const remoteSliceMs = engineOf(deps.db) === 'postgres' ? (options.remoteSliceMs ?? 200) : 0;
  const shareOptions = options.share ?? DEFAULT_SHARE;
  // The backlog, counted at most once a second, sets the processor's share of the loop.
  const backlog = createBacklogProbe({ db: deps.db, clock: deps.clock });
  const processedTotal = deps.metrics.counter(
    'nwa_inbox_processed_total',
    'Inbox rows processed, by outcome (processed, retry, dead)',
    ['outcome'],
  );
  deps.metrics.gauge('nwa_inbox_backlog', 'Inbox rows waiting to be processed', [], async (g) => {
    g.set(await inboxRepo.countInState(deps.db, 'pending'));
  });
  deps.metrics.gauge('nwa_inbox_dead_letters', 'Inbox rows parked as dead letters', [], async (g) => {
    g.set(await inboxRepo.countInState(deps.db, 'dead'));
  });

  let started = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  function wake(): void {
    if (started) kick();
  }

  const loop = createWakeLoop(() => runUntilIdle(), {
    stopped: () => stopped || deps.paused?.() === true,
    onError: (err) => log.error({ event: 'inbox.run_failed', err }, 'inbox processing failed; will retry'),
  });
  const kick = () => loop.wake();

  async function runUntilIdle(): Promise<void> {
    // Rows fetched per slice follow what the last slice got through (a slice is time-bounded, and
    // reading a full batch of bodies to process a few of them costs more than the processing).
    let fetch = MIN_FETCH;
    let startedAt = performance.now();
    while (!stopped) {
      // A full turn of the event loop between slices: requests that arrived meanwhile are read and
      // appended to the ingress queue, which the next slice then waits for.
      const config = deps.config();
      const share = processingShare(
        await backlog.pending().catch(() => 0),
        config.inbox.backlog_threshold * config.load.backlog_shed_factor,
        shareOptions,
      );
      const late = await yieldToIngress(deps.ingress, startedAt, { share, maxWaitMs: maxDeferMs });
      if (stopped) return;
      // On a saturated loop the processor was away longer than planned: its next slice makes up for
      // that time at its share, up to maxDeferMs.
      const extraMs = Math.min(maxDeferMs, (late * share) / (1 - share));
      startedAt = performance.now();
      const limit = Math.min(fetch, config.inbox.batch_size);
      const slice = await processSlice(await claimFor(limit), config, extraMs);
      if (slice === undefined) return;
      const { outcomes } = slice;
      // A quarter more than the last slice got through: every row claimed and not reached is claimed
      // again by the next slice, and twice the need (as before) made each row's claim cost twice.
      fetch = Math.max(MIN_FETCH, Math.ceil(outcomes.length * 1.25) + 1);
      report(outcomes);
      deps.onSliceCommitted?.();
      // Fewer rows than asked for, every one reached: nothing else was due when they were claimed, and
      // a delivery committed since has woken the loop to go round again (wake-loop.ts); a retry that
      // comes due later is the timer's. Without this, each run at a low rate ended with a claim that
      // found nothing: a transaction (and on PostgreSQL a round trip) per wake for no row.
      if (slice.claimed < limit && slice.reachedAll) return;
    }
  }

  /**
   * How a slice gets its rows, or undefined when none is due. On PostgreSQL they are claimed in a
   * commit of their own (redoable: a lost claim only leaves its rows unclaimed), so the lease is there
   * for every other instance to see while this one processes them, and the slice keeps those still
   * held: a lease that ran out (a stalled loop) may have been taken over meanwhile. On SQLite the
   * slice's own transaction claims them: its one writer lets nobody else write while the slice runs,
   * so a commit of its own showed the lease to no one, and cost a commit and a read per slice, most of
   * a slice's cost at a steady few hundred deliveries a second, when a slice holds one or two.
   */
  async function claimFor(limit: number): Promise<Take | undefined> {
    const claim = (trx: Db) => {
      const now = deps.clock.now();
      return inboxRepo.claimDue(trx, deps.owner, now, now + LEASE_MS, limit);
    };
    if (engineOf(deps.db) === 'sqlite') {
      return async (trx) => {
        const rows = await claim(trx);
        return { rows, claimed: rows.length };
      };
    }
    const rows = await withRedoableTransaction(deps.db, claim);
    if (rows.length === 0) return undefined;
    const ids = rows.map((r) => r.id);
    return async (trx) => {
      const held = await inboxRepo.stillHeld(trx, ids, deps.owner);
      return { rows: rows.filter((r) => held.has(r.id)), claimed: rows.length };
    };
  }

  /** The slice's outcomes, or undefined when it found no row to process. */
  async function processSlice(
    take: Take | undefined,
    config: Config,
    extraMs: number,
  ): Promise<Slice | undefined> {
    if (take === undefined) return undefined;
    // Savepoints cost two statements per delivery (two round trips on PostgreSQL) and are needed only
    // when a row fails: the first run goes without, and a failure rolls the slice back (its claim on
    // SQLite with it, taken again by `take`) to be run again with one savepoint per row (the failing
    // row's effects undone, the others' kept).
    try {
      return await runSlice(take, config, extraMs, false);
    } catch (err) {
      if (!(err instanceof RowFailed)) throw err;
      log.debug({ event: 'inbox.slice_redone', inbox_id: err.rowId }, 'slice redone with savepoints');
      return runSlice(take, config, extraMs, true);
    }
  }

  async function runSlice(
    take: Take,
    config: Config,
    extraMs: number,
    savepoints: boolean,
  ): Promise<Slice | undefined> {
    // Redoable: a lost commit leaves its rows pending, so the slice is not fsynced on its own.
    return withRedoableTransaction(deps.db, async (trx) => {
      const { rows, claimed } = await take(trx);
      if (rows.length === 0) return undefined;
      const outcomes: Outcome[] = [];
      const sliceStart = performance.now();
      const quiet = deps.ingress !== undefined && !deps.ingress.arrivedSince(sliceStart - QUIET_FOR_MS);
      const budget = Math.max(remoteSliceMs, quiet ? idleSliceMs : Math.min(maxDeferMs, sliceMs + extraMs));
      let next = 0;
      const processRows = async () => {
        while (next < rows.length) {
          const row = rows[next++] as InboxRow;
          outcomes.push(
            savepoints ? await processRow(trx, row, config) : await processRowBare(trx, row, config),
          );
          if (stopped || performance.now() - sliceStart >= budget) break;
        }
      };
      // The domain events of the slice's deliveries go in together (a few INSERTs per slice instead
      // of two or three per delivery); with savepoints, each row's own (its savepoint may undo them).
      if (savepoints) await processRows();
      else await recordingTogether(trx, processRows);
      // Claimed rows the slice had no time for are due again at once, for any instance.
      await inboxRepo.release(
        trx,
        rows.slice(next).map((r) => r.id),
        deps.owner,
      );
      // Marked together, in the same transaction as their effects.
      await inboxRepo.markProcessed(
        trx,
        outcomes.filter((o) => o.kind === 'processed').map((o) => o.row.id),
        deps.clock.now(),
      );
      return { outcomes, claimed, reachedAll: next >= rows.length };
    });
  }

  /** A row without a savepoint: on failure the slice's transaction is rolled back (RowFailed). */
  async function processRowBare(trx: Db, row: InboxRow, config: Config): Promise<Outcome> {
    try {
      const summary = await processDelivery(trx, row, {
        ids: deps.ids,
        now: deps.clock.now(),
        config,
        logger: log,
      });
      return { row, kind: 'processed', summary };
    } catch (err) {
      throw new RowFailed(row.id, err);
    }
  }

  async function processRow(trx: Db, row: InboxRow, config: Config): Promise<Outcome> {
    const now = deps.clock.now();
    try {
      const summary = await withSavepoint(trx, 'inbox_row', (sp) =>
        recordingTogether(sp, () => processDelivery(sp, row, { ids: deps.ids, now, config, logger: log })),
      );
      return { row, kind: 'processed', summary };
    } catch (err) {
      const attempts = row.attempts + 1;
      const error = errorText(err);
      const decision =
        err instanceof PermanentDeliveryError
          ? ({ kind: 'dead' } as const)
          : nextAttempt(attempts, now, config.inbox);
      if (decision.kind === 'dead') {
        await inboxRepo.markDead(trx, row.id, attempts, error, now);
        return { row, kind: 'dead', error, attempts };
      }
      await inboxRepo.markRetry(trx, row.id, attempts, decision.at, error);
      return { row, kind: 'retry', error, attempts, at: decision.at };
    }
  }

  function report(outcomes: Outcome[]): void {
    for (const o of outcomes) {
      processedTotal.inc({ outcome: o.kind });
      if (o.kind === 'processed') {
        log.debug({ event: 'inbox.processed', inbox_id: o.row.id, ...o.summary }, 'delivery processed');
      } else if (o.kind === 'retry') {
        log.warn(
          {
            event: 'inbox.retry',
            inbox_id: o.row.id,
            attempts: o.attempts,
            next_attempt_at: new Date(o.at).toISOString(),
            error: o.error,
          },
          `delivery ${o.row.id} failed (attempt ${o.attempts}); will retry`,
        );
      } else {
        log.error(
          { event: 'inbox.dead', inbox_id: o.row.id, attempts: o.attempts, error: o.error },
          `delivery ${o.row.id} parked as a dead letter after ${o.attempts} attempt(s); replay it with the recovery action replay_dead_letters`,
        );
      }
    }
  }

  return {
    name: 'inbox-processor',
    wake,
    async start() {
      started = true;
      stopped = false;
      // Rows this instance claimed before a crash are its own to take back at once (SPEC §10); those
      // of other instances wait for their leases to run out.
      await withRedoableTransaction(deps.db, (trx) => inboxRepo.releaseOwnLeases(trx, deps.owner));
      const pollMs = options.pollMs ?? Math.min(1000, deps.config().inbox.retry_base_delay);
      timer = setInterval(wake, pollMs);
      timer.unref();
      // Rows left pending by a crash or a stop are processed now.
      wake();
    },
    async drain() {
      let before = Number.POSITIVE_INFINITY;
      for (;;) {
        kick();
        await loop.settled();
        if (stopped) return;
        const due = await inboxRepo.countDue(deps.db, deps.clock.now(), deps.owner);
        if (due === 0) return;
        // Each run handles at least one due row; if none moved, the store itself is failing.
        if (due >= before) throw new Error(`inbox processing makes no progress (${due} rows due)`);
        before = due;
      }
    },
    async stop(deadline) {
      stopped = true;
      if (timer) clearInterval(timer);
      const running = loop.current();
      if (!running) return;
      // The current slice commits (or rolls back) as a whole; wait for it within the deadline.
      await Promise.race([
        running,
        new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref()),
      ]);
    },
  };
}

/** A row failed in a slice run without savepoints: the slice is rolled back and run with them. */
class RowFailed extends Error {
  constructor(
    readonly rowId: string,
    override readonly cause: unknown,
  ) {
    super(`inbox row ${rowId} failed`);
  }
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
}
