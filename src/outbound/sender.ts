// The sender (SPEC §5): a background service that feeds each phone number's pacing queue from the
// outbox in bounded batches (the database is the queue; memory follows the queue's capacity, not the
// backlog), marks a row `sending` just before its network call, and hands the transport's answer to
// outbound/send-result.ts, which records it and lets each domain react. Here stays what only the
// running sender knows: metrics, channel health (auth → channel stopped until the credentials change;
// repeated retryable failures → runtime degraded) and the queues themselves.
// Rows are claimed with this instance as owner and a lease of `scheduler.lease` (SPEC §10), renewed
// every quarter lease while the rows wait in the queues or are being sent, so a lease runs out only
// when its instance is gone; then any instance takes the rows over (a `sending` one is sent again:
// SPEC §5's one duplicate window).
// Over 300 lines on purpose: the queues, lease renewal and channel health share the running sender's state; what a send result means lives in send-result.ts and the domains.

import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Clock } from '../lib/clock.js';
import type { IdSource, RandomSource } from '../lib/ids.js';
import type { Service } from '../lib/service.js';
import { createWakeLoop } from '../lib/wake-loop.js';
import type { Metrics } from '../observability/metrics.js';
import type { RuntimeHealth } from '../runtime/health.js';
import type { Db } from '../store/db.js';
import { type OutboxRow, outboxRepo } from '../store/outbox-repo.js';
import { type RateSlotKey, rateSlotsRepo } from '../store/rate-slots-repo.js';
import { withTransaction } from '../store/transactions.js';
import { unitRandomFrom } from './backoff.js';
import { createDispatchGate } from './dispatch-gate.js';
import { queuePriority } from './outbox.js';
import { type PacedTask, PacingQueue, PacingQueues, type TaskOutcome } from './pacing-queue.js';
import type { SlidingWindowLimiter } from './rate-limiter.js';
import { createSendNotes } from './send-notes.js';
import { recordSendOutcomeOnly, recordSendResult } from './send-result.js';
import { channelSlotKey, waitForSlot } from './shared-rate.js';
import { selectTransport, transportChanged } from './transports/select.js';
import type { OutboundMessage, SendResult, Transport } from './transports/transport.js';

export interface SenderDeps {
  db: Db;
  /** This daemon's instance id: the owner of the rows it claims. */
  owner: string;
  /** The daemon's clock: due times, retries, records. */
  clock: Clock;
  /**
   * The clock the rate cap is measured on. Meta counts real seconds, so this is the system clock even
   * when tests drive `clock` by hand (a fake clock that never moves would hold every send forever).
   */
  pacingClock: Clock;
  ids: IdSource;
  random: RandomSource;
  logger: Logger;
  metrics: Metrics;
  config: () => Config;
  health: RuntimeHealth;
  /** True while the database must not be written (store/writability.ts): no new work is taken. */
  paused?: () => boolean;
  /** How often due retries are looked for, ms (default 250). */
  pollMs?: number;
  /** Further rate caps a message must respect (a campaign's own rate, SPEC §7). */
  limitersFor?: (message: OutboundMessage) => readonly SlidingWindowLimiter[];
  /** The shared caps (outbound/shared-rate.ts) a message takes a slot under besides its number's. */
  rateSlotsFor?: (message: OutboundMessage) => readonly RateSlotKey[];
  /** Waits until those caps allow the request to leave (re-spacing after the `sending` mark). */
  beforeDispatch?: (message: OutboundMessage) => Promise<void>;
}

export interface Sender extends Service {
  /** New outbox rows were committed: feed the queues soon. Cheap; calls coalesce. */
  wake(): void;
  /** Feeds and sends until nothing is due and nothing is held (tests, tools). */
  drain(timeoutMs?: number): Promise<void>;
  /** The transport in use now. */
  transport(): Transport;
  /** The effective config changed: new credentials restart stopped channels, a new rate applies. */
  configChanged(next: Config, previous: Config): void;
  /**
   * The database may (not) be written (store/writability.ts): held sends wait, since each begins with
   * a write; in-flight ones finish. Feeding already stops through `paused`.
   */
  storeWritable(writable: boolean): void;
}

type TaskValue = { kind: 'skipped' } | { kind: 'sent'; result: SendResult };

export { FAILING_AFTER } from './send-notes.js';

/** What a send task that threw counts as: a retryable failure with no answer (as a network error). */
const TASK_FAILED: SendResult = {
  outcome: 'failed',
  kind: 'retryable',
  code: null,
  title: 'the send task failed (see the log)',
  details: null,
  httpStatus: null,
  windowClosed: false,
};

export function createSender(deps: SenderDeps): Sender {
  const log = deps.logger.child({ module: 'outbound' });
  const unit = unitRandomFrom(deps.random);
  const notes = createSendNotes({
    log,
    metrics: deps.metrics,
    health: deps.health,
    pauseChannel: (pnid) => queues.for(pnid).pause(),
  });
  const makeTransport = (config: Config) =>
    selectTransport(config, {
      db: deps.db,
      clock: deps.clock,
      ids: deps.ids,
      config: deps.config,
      running: () => !stopped,
      onStatusError: (err) =>
        log.warn({ event: 'outbound.sandbox_status_failed', err }, 'sandbox status not applied'),
    });
  let stopped = false;
  let transport = makeTransport(deps.config());
  const queues = new PacingQueues<TaskValue>((pnid) => makeQueue(pnid));
  const dispatchSlot = createDispatchGate(deps.pacingClock, () => deps.config().outbound.rate_per_second);
  let timer: NodeJS.Timeout | undefined;

  function capacity(config: Config): number {
    return Math.max(config.outbound.concurrency * 4, Math.ceil(config.outbound.rate_per_second * 2), 16);
  }

  function makeQueue(pnid: string): PacingQueue<TaskValue> {
    const config = deps.config();
    return new PacingQueue<TaskValue>({
      ratePerSecond: config.outbound.rate_per_second,
      concurrency: config.outbound.concurrency,
      perRecipientIntervalMs: config.outbound.per_recipient_interval,
      capacity: capacity(config),
      clock: deps.pacingClock,
      onSettled: (task, outcome) => settle(task, outcome, pnid),
      onError: (err, task) =>
        log.error(
          { event: 'outbound.settle_failed', err, outbox_id: task.id },
          'could not record a send result',
        ),
    });
  }

  /** The shared caps this send takes a slot under (outbound/shared-rate.ts): its number's, its campaign's. */
  function slotKeys(pnid: string, message: OutboundMessage): RateSlotKey[] {
    return [
      channelSlotKey(pnid, deps.config().outbound.rate_per_second),
      ...(deps.rateSlotsFor?.(message) ?? []),
    ];
  }

  function taskFor(row: OutboxRow): PacedTask<TaskValue> & { row: OutboxRow } {
    const message = JSON.parse(row.payload) as OutboundMessage;
    return {
      id: row.id,
      row,
      priority: queuePriority(row.priority),
      recipient: row.to,
      limiters: deps.limitersFor?.(message),
      async run(): Promise<TaskValue> {
        // The last write before the call: the duplicate window of SPEC §5 is from here to settle().
        const startUs = await withTransaction(deps.db, async (trx) => {
          const now = deps.clock.now();
          const lease = now + deps.config().scheduler.lease;
          if (!(await outboxRepo.markSending(trx, row.id, deps.owner, now, lease))) return null;
          // Last in the transaction, so the slot row stays locked only until the commit that follows.
          return rateSlotsRepo.take(
            trx,
            slotKeys(row.phone_number_id, message),
            deps.pacingClock.now() * 1000,
          );
        });
        if (startUs === null) return { kind: 'skipped' };
        await waitForSlot(deps.pacingClock, startUs);
        await deps.beforeDispatch?.(message);
        await dispatchSlot(row.phone_number_id);
        return { kind: 'sent', result: await transport.send(message) };
      },
    };
  }

  async function settle(
    task: PacedTask<TaskValue>,
    outcome: TaskOutcome<TaskValue>,
    pnid: string,
  ): Promise<void> {
    const row = (task as PacedTask<TaskValue> & { row: OutboxRow }).row;
    let result: SendResult;
    if (!outcome.ok) {
      log.error({ event: 'outbound.task_failed', err: outcome.error, outbox_id: row.id }, 'send task failed');
      // It may have marked the row `sending` (and even reached the API): it is retried like a
      // network error, never left `sending` for the next start to find.
      result = TASK_FAILED;
    } else if (outcome.value.kind === 'skipped') return;
    else result = outcome.value.result;
    const now = deps.clock.now();
    const ctx = { ids: deps.ids, now, config: deps.config(), unit };
    let attempts = row.attempts;
    const answer = await withTransaction(deps.db, async (trx) => {
      const fresh = (await outboxRepo.get(trx, row.id)) ?? row;
      attempts = fresh.attempts;
      return recordSendResult(trx, fresh, result, ctx);
    }).catch(async (err: unknown) => {
      // A step after the answer threw and rolled the whole record back; the row's own state and event
      // are written alone so that it ends sent, queued for a retry, or failed (SPEC §9a).
      log.error(
        { event: 'outbound.settle_failed', err, outbox_id: row.id, outcome: result.outcome },
        'recording a send result failed; the outbox row is recorded without its other effects',
      );
      return withTransaction(deps.db, async (trx) =>
        recordSendOutcomeOnly(trx, (await outboxRepo.get(trx, row.id)) ?? row, result, ctx),
      );
    });
    if (result.outcome === 'accepted') notes.accepted(pnid, answer);
    else notes.failed(row, result, answer, attempts, now, pnid);
    // Refill before the queue runs dry, so the rate does not dip while the next batch is claimed; a
    // follow-up re-planned as a template is due right away.
    const wakeAgain = answer.outcome === 'failed' && answer.replanned !== null;
    if (wakeAgain || queues.for(pnid).size <= capacity(deps.config()) / 2) wake();
  }

  const feeder = createWakeLoop(feedOnce, {
    stopped: () => stopped || deps.paused?.() === true,
    onError: (err) =>
      log.error({ event: 'outbound.feed_failed', err }, 'feeding the send queue failed; will retry'),
  });
  const wake = () => feeder.wake();

  let leasesKeptAt = Number.NEGATIVE_INFINITY;

  /**
   * Every quarter lease (on the daemon's clock): this instance's leases are renewed, and `sending`
   * rows of instances whose leases ran out are taken back into the queue.
   */
  async function keepLeases(config: Config): Promise<void> {
    const now = deps.clock.now();
    if (now < leasesKeptAt + config.scheduler.lease / 4) return;
    leasesKeptAt = now;
    const requeued = await withTransaction(deps.db, async (trx) => {
      await outboxRepo.renewLeases(trx, deps.owner, now + config.scheduler.lease);
      return outboxRepo.requeueExpiredSending(trx, deps.owner, now);
    });
    if (requeued > 0) {
      log.warn(
        { event: 'outbound.took_over_sending', count: requeued },
        `${requeued} message(s) were being sent by an instance whose lease ran out; they are sent again (the API may have accepted them: the one duplicate window)`,
      );
    }
  }

  /** Claims due rows up to the room in the queues and hands them over; returns how many were added. */
  async function feedOnce(): Promise<number> {
    let added = 0;
    await keepLeases(deps.config());
    for (;;) {
      if (stopped) return added;
      const config = deps.config();
      // Paused by root (SPEC §8): nothing new is taken; queued rows wait in the outbox for resume.
      if (config.runtime.status === 'paused') return added;
      const room = Math.max(0, capacity(config) - maxHeld());
      if (room === 0) return added;
      const now = deps.clock.now();
      const stoppedChannels = deps.health.stoppedChannels();
      const rows = await withTransaction(deps.db, (trx) =>
        outboxRepo.claimForQueue(
          trx,
          deps.owner,
          now,
          now + config.scheduler.lease,
          Math.min(room, 500),
          stoppedChannels,
        ),
      );
      if (rows.length === 0) return added;
      const giveBack: string[] = [];
      for (const row of rows) {
        const res = queues.for(row.phone_number_id).add(taskFor(row));
        if (res === 'accepted') added++;
        else if (res !== 'duplicate') giveBack.push(row.id);
      }
      if (giveBack.length > 0) {
        await withTransaction(deps.db, (trx) => outboxRepo.releaseLeases(trx, giveBack, deps.owner));
        return added;
      }
    }
  }

  function maxHeld(): number {
    let n = 0;
    for (const [, q] of queues.all()) n = Math.max(n, q.size);
    return n;
  }

  return {
    name: 'outbound-sender',
    wake,
    transport: () => transport,
    configChanged(next, previous) {
      if (transportChanged(next, previous)) {
        transport = makeTransport(next);
        for (const pnid of deps.health.stoppedChannels()) deps.health.channelOk(pnid);
        if (next.runtime.status !== 'paused') for (const [, q] of queues.all()) q.resume();
        log.info(
          { event: 'outbound.credentials_changed', transport: transport.name },
          `outbound transport is now ${transport.name}; stopped channels resume`,
        );
      }
      if (next.runtime.status !== previous.runtime.status) {
        // Held tasks wait too; on resume, channels stopped by an auth error stay stopped.
        const stoppedChannels = new Set(deps.health.stoppedChannels());
        for (const [pnid, q] of queues.all()) {
          if (next.runtime.status === 'paused') q.pause();
          else if (!stoppedChannels.has(pnid)) q.resume();
        }
      }
      if (next.outbound.rate_per_second !== previous.outbound.rate_per_second) {
        for (const [, q] of queues.all()) q.setRate(next.outbound.rate_per_second);
      }
      wake();
    },
    storeWritable(writable) {
      const stoppedChannels = new Set(deps.health.stoppedChannels());
      const runtimePaused = deps.config().runtime.status === 'paused';
      for (const [pnid, q] of queues.all()) {
        if (!writable) q.pause();
        else if (!runtimePaused && !stoppedChannels.has(pnid)) q.resume();
      }
      if (writable) wake();
    },
    async start() {
      stopped = false;
      const recovered = await withTransaction(deps.db, (trx) =>
        outboxRepo.recoverAfterRestart(trx, deps.owner, deps.clock.now()),
      );
      if (recovered > 0) {
        log.warn(
          { event: 'outbound.recovered_sending', count: recovered },
          `${recovered} message(s) were being sent when the daemon stopped (or by an instance whose lease ran out); they are sent again (the API may have accepted them: the one duplicate window)`,
        );
      }
      timer = setInterval(wake, deps.pollMs ?? 250);
      timer.unref();
      wake();
    },
    async drain(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        wake();
        await feeder.settled();
        // Until every queue is empty or stopped (a paused queue keeps its tasks until it resumes), and
        // no send is in flight: a queue paused while one of its sends runs (an auth failure of a
        // parallel send, a read-only store) still settles that send, and drain waits for it.
        while ([...queues.all()].some(([, q]) => q.active > 0 || (q.size > 0 && !q.isPaused))) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        if (feeder.current()) continue;
        const held = [...queues.all()].some(([, q]) => !q.isPaused && q.size > 0);
        if (!held && (await feedOnce()) === 0) return;
        if (Date.now() > deadline) throw new Error('outbound drain timed out');
      }
    },
    async stop(deadline) {
      stopped = true;
      if (timer) clearInterval(timer);
      await feeder.settled();
      const closed = await queues.close(Math.max(0, deadline - Date.now()));
      // Unstarted rows are still `queued`: give their leases back so the next run sends them at once.
      await withTransaction(deps.db, (trx) =>
        outboxRepo.releaseLeases(
          trx,
          closed.unstarted.map((t) => t.id),
          deps.owner,
        ),
      );
      if (closed.stillRunning > 0) {
        log.warn(
          { event: 'outbound.stopped_with_sends_in_flight', count: closed.stillRunning },
          `${closed.stillRunning} send(s) were still in flight at the shutdown deadline; they are resolved on the next start`,
        );
      }
    },
  };
}
