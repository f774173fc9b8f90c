// Delivers the event log to webhook subscriptions (SPEC §11, Standard Webhooks), at least once:
// 1. fan-out: each enabled subscription's cursor walks the log in sequence order and writes one
//    delivery row per matching event (the database is the queue; a restart resumes from it); the
//    cursor never passes the commit horizon (commit-horizon.ts: on PostgreSQL a later seq can commit
//    before an earlier one, which a cursor past it would never deliver);
// 2. claim: per subscription, up to `concurrency` due rows in one statement with this instance as
//    owner and a lease, only the oldest pending row of each conversation (per-conversation order);
// 3. send: one signed POST each, 10 s timeout, no redirects; then one transaction records the attempt
//    and the outcome: 2xx delivered; 410 disables the subscription; else a retry with jittered
//    backoff (5 s → 1 h) until 24 h have passed, then `dead` (replayable). A subscription with no
//    success for 5 days is disabled and `runtime.status_changed` says so.
// Over 300 lines on purpose: fan-out, claim, send and settle share the in-flight slots, the lease owner
// and the health refresh; split apart they would pass that state around.
// Subscriptions never wait on each other (own slots), and nothing here runs on the ingress path: while
// webhooks keep arriving, passes and settles step aside (lib/yield-to-ingress.ts) so that deliveries
// take a bounded share of the loop; a backlog built under load goes out once ingress is quiet.
// Over 300 lines on purpose: fan-out, claim, send and record share one loop and its state; the claim is store/subscriptions-repo.ts, signing and the horizon their own files.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { type Clock, toIso } from '../lib/clock.js';
import type { IdSource, RandomSource } from '../lib/ids.js';
import type { Service } from '../lib/service.js';
import { createWakeLoop } from '../lib/wake-loop.js';
import { type IngressSignal, yieldToIngress } from '../lib/yield-to-ingress.js';
import type { Metrics } from '../observability/metrics.js';
import type { RuntimeHealth } from '../runtime/health.js';
import type { Db } from '../store/db.js';
import { eventsRepo } from '../store/events-repo.js';
import { type DeliveryRow, type SubscriptionRow, subscriptionsRepo } from '../store/subscriptions-repo.js';
import { withRedoableTransaction, withTransaction } from '../store/transactions.js';
import { createCommitHorizon } from './commit-horizon.js';
import { postWebhook } from './post-webhook.js';
import { onEventAppended, recordEvent, toEnvelope } from './record-event.js';
import { signatureHeaders } from './signing.js';
import { matches, newDelivery, signingSecrets, subscriptionFilter } from './subscriptions.js';

export interface DeliveryWorkerDeps {
  db: Db;
  clock: Clock;
  /** Real time for `webhook-timestamp` (subscribers compare it with their own clock). */
  wallClock: Clock;
  ids: IdSource;
  random: RandomSource;
  logger: Logger;
  metrics: Metrics;
  config: () => Config;
  health: RuntimeHealth;
  /** The lease owner written on claimed rows. */
  owner: string;
  /** Webhook ingress: deliveries take a small share of the loop while it is busy. */
  ingress?: IngressSignal;
  /** True while the database must not be written: nothing new is taken. */
  paused?: () => boolean;
  pollMs?: number;
}

export interface DeliveryWorker extends Service {
  wake(): void;
  /** Runs passes until nothing is due and nothing is in flight (tests). */
  drain(timeoutMs?: number): Promise<void>;
}

const FAN_OUT_BATCH = 500;
/** How soon to look again while events wait behind the commit horizon (transactions take ms). */
const RECHECK_MS = 5;
// The loop's share for deliveries while webhooks keep arriving (the responder's): the cost of
// subscriptions to ingress stays small; the wait is bounded so deliveries never stop under load.
const INGRESS_SHARE = { share: 0.1, maxWaitMs: 50 };

export function createDeliveryWorker(deps: DeliveryWorkerDeps): DeliveryWorker {
  const log = deps.logger.child({ module: 'events' });
  const outcomes = deps.metrics.counter(
    'nwa_event_deliveries_total',
    'Webhook delivery attempts by outcome (delivered, retry, dead, gone)',
    ['outcome'],
  );
  deps.metrics.gauge(
    'nwa_events_oldest_undelivered_seconds',
    'Age of the oldest event not yet delivered to an enabled subscription (0 when none)',
    [],
    async (g) => {
      const t = await subscriptionsRepo.oldestPending(deps.db);
      g.set(t === null ? 0 : Math.max(0, (deps.clock.now() - t) / 1000));
    },
  );
  const inFlight = new Map<string, Set<Promise<void>>>();
  let stopped = true;
  // No subscription, no work: appends then wake nothing (the ingress and processing paths pay nothing).
  let hasSubscriptions = false;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  const horizon = createCommitHorizon(deps.db);
  // The last fan-out stopped at the commit horizon with events beyond it: look again soon.
  let held = false;
  let recheck: NodeJS.Timeout | undefined;

  const loop = createWakeLoop(pass, {
    stopped: () => stopped || deps.paused?.() === true,
    onError: (err) => log.error({ event: 'events.delivery_pass_failed', err }, 'event delivery pass failed'),
  });

  async function pass(): Promise<void> {
    const startedAt = performance.now();
    await claimAndSend();
    if (hasSubscriptions) await yieldToIngress(deps.ingress, startedAt, INGRESS_SHARE);
  }

  async function claimAndSend(): Promise<void> {
    const subs = await subscriptionsRepo.enabled(deps.db);
    hasSubscriptions = subs.length > 0;
    held = false;
    for (const sub of subs) await fanOut(sub);
    if (held && !recheck && !stopped) {
      recheck = setTimeout(() => {
        recheck = undefined;
        wake();
      }, RECHECK_MS);
      recheck.unref();
    }
    if (stopped) return;
    const now = deps.clock.now();
    const config = deps.config().events.delivery;
    const rooms = subs
      .map((sub) => {
        const running = inFlight.get(sub.id) ?? new Set();
        inFlight.set(sub.id, running);
        return { sub, running, room: config.concurrency - running.size };
      })
      .filter((r) => r.room > 0);
    if (rooms.length === 0) return;
    // Every subscription's claim in one commit (one fsync at most per pass, see settle()).
    const claimed = await withRedoableTransaction(deps.db, async (trx) => {
      const out: DeliveryRow[][] = [];
      for (const { sub, room } of rooms) {
        out.push(
          await subscriptionsRepo.claim(trx, sub.id, deps.owner, now, now + config.timeout + 5000, room),
        );
      }
      return out;
    });
    for (const [i, { sub, running }] of rooms.entries()) {
      for (const row of claimed[i] ?? []) {
        const p: Promise<void> = deliver(sub, row)
          .catch((err) =>
            log.error({ event: 'events.delivery_failed', err, delivery_id: row.id }, 'delivery failed'),
          )
          .finally(() => {
            running.delete(p);
            // A settled row may unblock the next of its conversation.
            loop.wake();
          });
        running.add(p);
      }
    }
  }

  /** Moves the subscription's cursor over new events, writing deliveries for the matching ones. */
  async function fanOut(sub: SubscriptionRow): Promise<void> {
    for (let guard = 0; guard < 20 && !stopped; guard++) {
      const read = await eventsRepo.after(deps.db, sub.cursor_seq, FAN_OUT_BATCH);
      if (read.length === 0) return;
      let events = read;
      if ((read[read.length - 1] as { seq: number }).seq > horizon.known()) {
        const safe = await horizon.safe();
        if ((read[read.length - 1] as { seq: number }).seq > safe) held = true;
        // Read again up to the horizon: an event below it may have committed after the first read.
        events =
          safe > sub.cursor_seq
            ? await eventsRepo.after(deps.db, sub.cursor_seq, FAN_OUT_BATCH, {}, safe)
            : [];
        if (events.length === 0) return;
      }
      const filter = subscriptionFilter(sub);
      const now = deps.clock.now();
      const rows = events.filter((e) => matches(filter, e)).map((e) => newDelivery(deps.ids, sub.id, e, now));
      const last = (events[events.length - 1] as { seq: number }).seq;
      const moved = await withRedoableTransaction(deps.db, (trx) =>
        subscriptionsRepo.fanOut(trx, sub, rows, last),
      );
      if (!moved) return;
      sub.cursor_seq = last;
      if (events.length < FAN_OUT_BATCH) return;
    }
  }

  async function deliver(sub: SubscriptionRow, row: DeliveryRow): Promise<void> {
    const event = await eventsRepo.byId(deps.db, row.event_id);
    const config = deps.config().events.delivery;
    if (!event) {
      // Pruned by retention before it could go out.
      await settle(
        sub,
        row,
        { status: null, ok: false, latency_ms: 0, error: 'event no longer retained' },
        true,
      );
      return;
    }
    const body = JSON.stringify(toEnvelope(event));
    const now = deps.clock.now();
    const headers = signatureHeaders(
      signingSecrets(sub, now),
      event.id,
      Math.floor(deps.wallClock.now() / 1000),
      body,
    );
    const out = await postWebhook(sub.url, headers, body, config.timeout);
    await settle(sub, row, out, false, event.type);
  }

  async function settle(
    sub: SubscriptionRow,
    row: DeliveryRow,
    out: { status: number | null; ok: boolean; latency_ms: number; error: string | null },
    forceDead: boolean,
    eventType = 'unknown',
  ): Promise<void> {
    const startedAt = performance.now();
    const config = deps.config().events.delivery;
    const now = deps.clock.now();
    const attempts = row.attempts + 1;
    const gone = out.status === 410;
    let outcome: 'delivered' | 'retry' | 'dead' | 'gone';
    let nextAt = now;
    if (out.ok) outcome = 'delivered';
    else if (gone) outcome = 'gone';
    else {
      nextAt = now + backoff(attempts, config.backoff_min, config.backoff_max, deps.random);
      outcome = forceDead || nextAt > row.created_at + config.retry_for ? 'dead' : 'retry';
    }
    let disabled = null as string | null;
    let healthChanged = outcome !== 'delivered';
    // Not fsynced by itself: a settle lost to a power cut sends the event again (at least once), and
    // the next fsynced commit makes it durable. An fsync per delivery was most of a delivery's cost.
    await withRedoableTransaction(deps.db, async (trx) => {
      await subscriptionsRepo.recordAttempt(trx, {
        id: deps.ids.next(),
        subscription_id: sub.id,
        delivery_id: row.id,
        event_id: row.event_id,
        event_type: eventType,
        at: now,
        status_code: out.status,
        latency_ms: out.latency_ms,
        error: out.error,
      });
      const held = await subscriptionsRepo.settle(trx, row.id, deps.owner, {
        state: outcome === 'delivered' ? 'delivered' : outcome === 'retry' ? 'pending' : 'dead',
        attempts,
        next_attempt_at: nextAt,
        last_status: out.status,
        last_error: out.error,
        updated_at: now,
        ...(outcome === 'delivered' ? { delivered_at: now } : {}),
      });
      // Our lease expired and another owner took the row: its answer counts, not ours.
      if (!held) return;
      const fresh = (await subscriptionsRepo.get(trx, sub.id)) ?? sub;
      if (outcome === 'delivered') {
        healthChanged = fresh.failing_since !== null;
        // A healthy subscription's last success is kept to the second, not rewritten per delivery.
        if (!healthChanged && fresh.last_error === null && now - (fresh.last_success_at ?? 0) < 1000) return;
        await subscriptionsRepo.update(trx, sub.id, {
          last_success_at: now,
          failing_since: null,
          last_error: null,
        });
        return;
      }
      const failingSince = fresh.failing_since ?? now;
      await subscriptionsRepo.update(trx, sub.id, {
        last_failure_at: now,
        failing_since: failingSince,
        last_error: out.error,
      });
      if (gone) disabled = 'the subscriber answered 410 Gone';
      else if (now - failingSince >= config.disable_after) {
        disabled = `no delivery succeeded for ${Math.round((now - failingSince) / 86_400_000)} days`;
      }
      if (disabled && fresh.enabled === 1) {
        await subscriptionsRepo.update(trx, sub.id, {
          enabled: 0,
          disabled_reason: disabled,
          updated_at: now,
        });
        const status = deps.config().runtime.status;
        await recordEvent(
          trx,
          {
            type: 'runtime.status_changed',
            agent_uuid: null,
            data: {
              status,
              previous_status: status,
              reason: `webhook subscription ${sub.id} disabled: ${disabled}`,
              subscription_id: sub.id,
            },
          },
          { ids: deps.ids, now },
        );
      } else disabled = null;
    });
    outcomes.inc({ outcome });
    if (outcome !== 'delivered') {
      log.warn(
        {
          event: `events.delivery_${outcome}`,
          subscription_id: sub.id,
          event_id: row.event_id,
          attempts,
          status: out.status,
        },
        `webhook delivery ${outcome === 'retry' ? 'failed; will retry' : outcome}: ${out.error ?? ''}`,
      );
    }
    if (disabled) {
      log.error(
        { event: 'events.subscription_disabled', subscription_id: sub.id },
        `webhook subscription disabled: ${disabled}`,
      );
    }
    if (healthChanged) await refreshHealth();
    // The slot stays taken while it rests: under ingress load deliveries keep to their share.
    await yieldToIngress(deps.ingress, startedAt, INGRESS_SHARE);
  }

  /** The runtime's status reasons name each failing subscription (SPEC §11). */
  async function refreshHealth(): Promise<void> {
    const subs = await subscriptionsRepo.enabled(deps.db);
    deps.health.setSubscriptionProblems(
      subs
        .filter((s) => s.failing_since !== null)
        .map(
          (s) =>
            `webhook subscription ${s.id} (${new URL(s.url).host}) is failing since ${toIso(s.failing_since as number)}: ${s.last_error ?? 'no answer'}`,
        ),
    );
  }

  const wake = () => loop.wake();

  return {
    name: 'event-delivery',
    wake,
    async start() {
      stopped = false;
      const resumed = await withTransaction(deps.db, (trx) =>
        subscriptionsRepo.releaseOwned(trx, deps.owner),
      );
      if (resumed > 0) {
        log.warn(
          { event: 'events.deliveries_resumed', count: resumed },
          `${resumed} webhook deliveries were in flight when the daemon stopped; they are sent again (at least once)`,
        );
      }
      await refreshHealth();
      unsubscribe = onEventAppended(() => {
        if (hasSubscriptions) setImmediate(wake);
      });
      timer = setInterval(wake, deps.pollMs ?? 500);
      timer.unref();
      wake();
    },
    async drain(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        wake();
        await loop.settled();
        const running = [...inFlight.values()].flatMap((s) => [...s]);
        // Events waiting behind the commit horizon are not done: their transactions end soon.
        if (running.length === 0 && !held) return;
        if (running.length > 0) await Promise.all(running);
        else await new Promise((resolve) => setTimeout(resolve, RECHECK_MS));
        if (Date.now() > deadline) throw new Error('event delivery drain timed out');
      }
    },
    async stop(deadline) {
      stopped = true;
      unsubscribe?.();
      if (timer) clearInterval(timer);
      if (recheck) clearTimeout(recheck);
      await loop.settled();
      const running = [...inFlight.values()].flatMap((s) => [...s]);
      await Promise.race([
        Promise.all(running),
        new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref()),
      ]);
    },
  };
}

/** Exponential from `min` doubling to `max`, with equal jitter (half fixed, half random). */
export function backoff(attempts: number, min: number, max: number, random: RandomSource): number {
  const raw = Math.min(max, min * 2 ** Math.min(30, attempts - 1));
  const b = random(4);
  const unit = (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;
  return Math.round(raw / 2 + (raw / 2) * (unit / 2 ** 32));
}
