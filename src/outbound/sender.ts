// The sender (SPEC §5): a background service that feeds each phone number's pacing queue from the
// outbox in bounded batches (the database is the queue; memory follows the queue's capacity, not the
// backlog), marks a row `sending` just before its network call, and writes every result back:
// accepted → sent + outbound message + pending statuses + engine; retryable → backoff, then dead;
// permanent → failed + engine (escalation rule), 131047 on a follow-up → re-planned as a template;
// auth → channel stopped, runtime degraded, rows stay queued until the credentials change.

import type { Logger } from 'pino';
import { campaignSendAccepted, campaignSendFailed } from '../campaigns/recipient-events.js';
import type { Config } from '../config/schema.js';
import { applyConversationEvent } from '../conversations/engine.js';
import type { BusinessMessageSource } from '../conversations/state-machine.js';
import { applyPendingStatuses, recordStatus } from '../inbox/statuses.js';
import { recordFollowUpAccepted } from '../insights/insight-events.js';
import { AppError } from '../lib/app-error.js';
import type { Clock } from '../lib/clock.js';
import type { IdSource, RandomSource } from '../lib/ids.js';
import type { Service } from '../lib/service.js';
import { createWakeLoop } from '../lib/wake-loop.js';
import type { Metrics } from '../observability/metrics.js';
import type { RuntimeHealth } from '../runtime/health.js';
import { planNext } from '../scheduler/follow-ups.js';
import { contactsRepo } from '../store/contacts-repo.js';
import { conversationsRepo } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import { followUpsRepo } from '../store/follow-ups-repo.js';
import { messagesRepo } from '../store/messages-repo.js';
import { type OutboxRow, outboxRepo } from '../store/outbox-repo.js';
import type { OutboxKind } from '../store/tables.js';
import { withTransaction } from '../store/transactions.js';
import { statusObject } from '../webhook/payload.js';
import { backoffFromConfig, planRetry, unitRandomFrom } from './backoff.js';
import { queuePriority } from './outbox.js';
import {
  DEFAULT_WINDOW_SLACK_MS,
  type PacedTask,
  PacingQueue,
  PacingQueues,
  type TaskOutcome,
} from './pacing-queue.js';
import { answerPermanentFailure } from './permanent-failure.js';
import { SlidingWindowLimiter, windowForRate } from './rate-limiter.js';
import { createCloudApiTransport } from './transports/cloud-api.js';
import { createSandboxTransport, type SyntheticStatusEvent } from './transports/sandbox.js';
import type { OutboundMessage, SendFailed, SendResult, Transport } from './transports/transport.js';

export interface SenderDeps {
  db: Db;
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

/**
 * Retryable failures in a row on one channel (network errors, 5xx, rate limits) after which the
 * runtime reports it `degraded` (SPEC §8: "a transport is failing on ... repeated errors"); the next
 * accepted send clears it.
 */
export const FAILING_AFTER = 3;

const SOURCE: Record<OutboxKind, BusinessMessageSource> = {
  reply: 'auto_reply',
  follow_up: 'follow_up',
  campaign: 'campaign',
  manual: 'agent',
};

export function createSender(deps: SenderDeps): Sender {
  const log = deps.logger.child({ module: 'outbound' });
  const unit = unitRandomFrom(deps.random);
  const results = deps.metrics.counter(
    'nwa_outbound_results_total',
    'Outbound send results, by outcome (sent, retry, dead, failed, auth) and Cloud API error code',
    ['outcome', 'code'],
  );
  const followUpsSent = deps.metrics.counter('nwa_follow_ups_sent_total', 'Follow-ups accepted by the API');
  let transport = makeTransport(deps.config());
  const failuresInARow = new Map<string, number>();
  const queues = new PacingQueues<TaskValue>((pnid) => makeQueue(pnid));
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  function makeTransport(config: Config): Transport {
    const ch = config.channels;
    if (ch.access_token) {
      return createCloudApiTransport({
        baseUrl: ch.api_base_url,
        version: ch.api_version,
        accessToken: ch.access_token,
        timeoutMs: ch.request_timeout,
      });
    }
    return createSandboxTransport({
      clock: deps.clock,
      ids: deps.ids,
      onStatus: (event) => applySandboxStatus(event),
      onStatusError: (err) =>
        log.warn({ event: 'outbound.sandbox_status_failed', err }, 'sandbox status not applied'),
    });
  }

  /** Sandbox statuses go through the same status processing as webhook statuses. */
  async function applySandboxStatus(event: SyntheticStatusEvent): Promise<void> {
    if (stopped) return;
    const status = statusObject.parse(event.status);
    await withTransaction(deps.db, (trx) =>
      recordStatus(trx, status, event.status, {
        ids: deps.ids,
        now: deps.clock.now(),
        inboxId: null,
        config: deps.config(),
      }),
    );
  }

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

  /**
   * The pacing queue caps starts, but a start here begins with a database write (the `sending` mark)
   * whose commit time varies with fsync and other transactions; two starts 12 ms apart could then
   * leave 40 ms apart, or together. So the cap is enforced once more, on the same window, right
   * before the request leaves: it only re-spaces sends that bunched up, it does not lower the rate.
   */
  const dispatch = new Map<string, { limiter: SlidingWindowLimiter; gate: Promise<void> }>();

  function dispatchSlot(pnid: string): Promise<void> {
    const rate = deps.config().outbound.rate_per_second;
    let d = dispatch.get(pnid);
    const w = windowForRate(rate);
    const spec = { limit: w.limit, windowMs: w.windowMs + DEFAULT_WINDOW_SLACK_MS, spread: true };
    if (!d) {
      d = { limiter: new SlidingWindowLimiter(spec), gate: Promise.resolve() };
      dispatch.set(pnid, d);
    } else if (d.limiter.limit !== spec.limit || d.limiter.windowMs !== spec.windowMs) {
      d.limiter = d.limiter.withLimit(spec);
    }
    const slot = d;
    const next = slot.gate.then(async () => {
      for (;;) {
        const now = deps.pacingClock.now();
        const wait = slot.limiter.waitTime(now);
        if (wait <= 0) {
          slot.limiter.record(now);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    });
    slot.gate = next;
    return next;
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
        const go = await withTransaction(deps.db, (trx) =>
          outboxRepo.markSending(trx, row.id, deps.clock.now()),
        );
        if (!go) return { kind: 'skipped' };
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
    if (!outcome.ok) {
      log.error({ event: 'outbound.task_failed', err: outcome.error, outbox_id: row.id }, 'send task failed');
      await withTransaction(deps.db, (trx) => outboxRepo.releaseLeases(trx, [row.id]));
      return;
    }
    if (outcome.value.kind === 'skipped') return;
    const result = outcome.value.result;
    let wakeAgain = false;
    await withTransaction(deps.db, async (trx) => {
      const now = deps.clock.now();
      const config = deps.config();
      const fresh = (await outboxRepo.get(trx, row.id)) ?? row;
      if (result.outcome === 'accepted') {
        await recordAccepted(trx, fresh, result.wamid, now, config);
        results.inc({ outcome: 'sent', code: 'none' });
        return;
      }
      wakeAgain = await recordFailure(trx, fresh, result, now, config, pnid);
    });
    if (result.outcome === 'accepted') {
      failuresInARow.delete(pnid);
      const problem = deps.health.view().channels.find((c) => c.phone_number_id === pnid);
      if (problem?.kind === 'failing') deps.health.channelOk(pnid);
    }
    // Refill before the queue runs dry, so the rate does not dip while the next batch is claimed.
    if (wakeAgain || queues.for(pnid).size <= capacity(deps.config()) / 2) wake();
  }

  async function recordAccepted(
    trx: Db,
    row: OutboxRow,
    wamid: string | null,
    now: number,
    config: Config,
  ): Promise<void> {
    await outboxRepo.markSent(trx, row, wamid, now);
    await campaignSendAccepted(trx, row, wamid, now);
    const message = JSON.parse(row.payload) as OutboundMessage;
    if (wamid && message.kind === 'message') {
      await messagesRepo.insertIfNew(trx, {
        id: deps.ids.next(),
        wamid,
        conversation_id: row.conversation_id,
        contact_id: row.contact_id,
        phone_number_id: row.phone_number_id,
        direction: 'outbound',
        ...describeContent(message),
        status: 'sent',
        error_code: null,
        error_title: null,
        context_wamid: message.reply_to ?? null,
        timestamp: now,
        created_at: now,
        payload: row.payload,
      });
      // Meta's statuses can arrive before the send call returns; they were kept for this moment.
      await applyPendingStatuses(trx, wamid, { ids: deps.ids, now, config });
    }
    const followUp = row.follow_up_id ? await followUpsRepo.get(trx, row.follow_up_id) : undefined;
    if (followUp) {
      followUpsSent.inc();
      await followUpsRepo.update(trx, followUp.id, {
        state: 'sent',
        sent_wamid: wamid,
        lease_until: null,
        updated_at: now,
      });
      await recordFollowUpAccepted(trx, followUp, config);
    }
    const conv = row.conversation_id ? await conversationsRepo.get(trx, row.conversation_id) : undefined;
    const contact = conv ? await contactsRepo.get(trx, conv.contact_id) : undefined;
    if (!conv || !contact) return;
    await engineEvent(conv.id, () =>
      applyConversationEvent(
        trx,
        {
          conversation: conv,
          contact,
          phone_number_id: conv.phone_number_id,
          event: { type: 'business_message_sent', at: now, source: SOURCE[row.kind], actor: row.kind },
        },
        { ids: deps.ids, now, config },
      ),
    );
    if (followUp) {
      // The next follow-up of the same silence, if the sequence has one and the customer is still silent.
      const after = await conversationsRepo.get(trx, conv.id);
      if (after?.queue_state === 'pending') {
        await planNext(trx, after, followUp.silence_from, { ids: deps.ids, now, config });
      }
    }
  }

  /** Writes a failed send; true when the row is due again right away (re-planned as a template). */
  async function recordFailure(
    trx: Db,
    row: OutboxRow,
    failure: SendFailed,
    now: number,
    config: Config,
    pnid: string,
  ): Promise<boolean> {
    const error = { code: failure.code, title: failure.title };
    const logIds = {
      outbox_id: row.id,
      conversation_id: row.conversation_id,
      code: failure.code,
      kind: failure.kind,
    };
    if (failure.kind === 'auth') {
      // Not the message's fault: it stays queued (the attempt is not counted) until credentials change.
      await outboxRepo.requeue(trx, row.id, now, now, error, { refundAttempt: true });
      deps.health.channelProblem({
        phone_number_id: pnid,
        kind: 'auth',
        code: failure.code,
        title: failure.title,
        since: now,
      });
      queues.for(pnid).pause();
      results.inc({ outcome: 'auth', code: codeLabel(failure.code) });
      log.error(
        { event: 'outbound.channel_stopped', phone_number_id: pnid, ...logIds },
        `sending on ${pnid} stopped: ${failure.title}; messages stay queued until the credentials are updated`,
      );
      return false;
    }
    if (failure.kind === 'retryable') {
      noteRetryableFailure(pnid, failure, now);
      const plan = planRetry(row.attempts, now, backoffFromConfig(config.outbound), unit);
      if (plan.retry) {
        await outboxRepo.requeue(trx, row.id, plan.retryAt, now, error);
        results.inc({ outcome: 'retry', code: codeLabel(failure.code) });
        log.warn(
          { event: 'outbound.retry', ...logIds, attempts: row.attempts, retry_at: plan.retryAt },
          `send failed (${failure.title}); retrying`,
        );
        return false;
      }
      await outboxRepo.markFinal(trx, row, 'dead', error, now);
      await campaignSendFailed(trx, row, error, now);
      await finishFollowUp(trx, row, 'failed', `dead after ${row.attempts} attempts: ${failure.title}`, now);
      results.inc({ outcome: 'dead', code: codeLabel(failure.code) });
      log.error(
        { event: 'outbound.dead', ...logIds, attempts: row.attempts },
        `send gave up after ${row.attempts} attempts`,
      );
      return false;
    }
    // Permanent: follow-up re-plan and escalation are answered in one place (permanent-failure.ts).
    await outboxRepo.markFinal(trx, row, 'failed', error, now);
    await campaignSendFailed(trx, row, error, now);
    results.inc({ outcome: 'failed', code: codeLabel(failure.code) });
    log.warn({ event: 'outbound.failed', ...logIds }, `send failed permanently: ${failure.title}`);
    const answer = await answerPermanentFailure(
      trx,
      {
        outbox: row,
        conversation_id: row.conversation_id,
        code: failure.code,
        title: failure.title,
        via: 'send',
      },
      { ids: deps.ids, now, config },
    );
    if (answer.replanned) {
      log.info(
        { event: 'outbound.follow_up_replanned', ...answer.replanned },
        'follow-up re-planned as a template (the customer service window had closed)',
      );
    }
    return answer.replanned !== null;
  }

  function noteRetryableFailure(pnid: string, failure: SendFailed, now: number): void {
    const n = (failuresInARow.get(pnid) ?? 0) + 1;
    failuresInARow.set(pnid, n);
    if (n < FAILING_AFTER || deps.health.stoppedChannels().includes(pnid)) return;
    const known = deps.health.view().channels.some((c) => c.phone_number_id === pnid);
    deps.health.channelProblem({
      phone_number_id: pnid,
      kind: 'failing',
      code: failure.code,
      title: failure.title,
      since: now,
    });
    if (!known) {
      log.warn(
        { event: 'outbound.channel_failing', phone_number_id: pnid, code: failure.code, failures: n },
        `sends on ${pnid} keep failing (${failure.title}); the runtime is degraded until one is accepted`,
      );
    }
  }

  async function finishFollowUp(trx: Db, row: OutboxRow, state: 'failed', reason: string, now: number) {
    if (!row.follow_up_id) return;
    await followUpsRepo.update(trx, row.follow_up_id, {
      state,
      skip_reason: reason,
      lease_until: null,
      updated_at: now,
    });
  }

  async function engineEvent(conversationId: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      // A refused event (e.g. the conversation is closed) changes nothing; the send result stands.
      if (!(err instanceof AppError && err.code === 'invalid_state')) throw err;
      log.debug(
        { event: 'outbound.engine_refused', conversation_id: conversationId, reason: err.message },
        'engine refused',
      );
    }
  }

  const feeder = createWakeLoop(feedOnce, {
    stopped: () => stopped || deps.paused?.() === true,
    onError: (err) =>
      log.error({ event: 'outbound.feed_failed', err }, 'feeding the send queue failed; will retry'),
  });
  const wake = () => feeder.wake();

  /** Claims due rows up to the room in the queues and hands them over; returns how many were added. */
  async function feedOnce(): Promise<number> {
    let added = 0;
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
        await withTransaction(deps.db, (trx) => outboxRepo.releaseLeases(trx, giveBack));
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
      const a = next.channels;
      const b = previous.channels;
      if (
        a.access_token !== b.access_token ||
        a.api_base_url !== b.api_base_url ||
        a.api_version !== b.api_version
      ) {
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
        outboxRepo.recoverAfterRestart(trx, deps.clock.now()),
      );
      if (recovered > 0) {
        log.warn(
          { event: 'outbound.recovered_sending', count: recovered },
          `${recovered} message(s) were being sent when the daemon stopped; they are sent again (the API may have accepted them: the one duplicate window)`,
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
        // Until every queue is empty or stopped (a paused queue keeps its tasks until it resumes).
        while ([...queues.all()].some(([, q]) => q.size > 0 && !q.isPaused)) {
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

function codeLabel(code: number | null | undefined): string {
  return code === null || code === undefined ? 'none' : String(code);
}

function describeContent(message: Extract<OutboundMessage, { kind: 'message' }>): {
  type: string;
  text: string | null;
} {
  const c = message.content;
  switch (c.type) {
    case 'text':
      return { type: 'text', text: c.text };
    case 'template':
      return { type: 'template', text: c.template.name };
    case 'buttons':
    case 'list':
      return { type: 'interactive', text: c.body };
    case 'media':
      return { type: c.media_type, text: c.caption ?? null };
  }
}
