// Delivers the event log to webhook subscriptions (SPEC §11, Standard Webhooks), at least once:
// 1. fan-out: each enabled subscription's cursor walks the log in sequence order and writes one
//    delivery row per matching event (the database is the queue; a restart resumes from it); the
//    cursor never passes the commit horizon (commit-horizon.ts: on PostgreSQL a later seq can commit
//    before an earlier one, which a cursor past it would never deliver);
// 2. claim: per subscription, up to `concurrency` due rows in one statement with this instance as
//    owner and a lease, only the oldest pending row of each conversation (per-conversation order);
// 3. send: one signed POST each (post-webhook.ts: 10 s timeout, no redirects, kept-alive connections);
//    the claimed rows' events are read in one query with the claim;
// 4. settle: the outcomes of every delivery that finished since the last settle are recorded in one
//    transaction (a transaction per delivery was most of a delivery's cost: its commit wrote the same
//    index pages again each time): 2xx delivered; 410 disables the subscription; else a retry with
//    jittered backoff (5 s → 1 h) until 24 h have passed, then `dead` (replayable). A subscription
//    with no success for 5 days is disabled and `runtime.status_changed` says so. A delivery's slot is
//    held until its outcome is committed, so the next event of its conversation waits for it.
// Subscriptions never wait on each other (own slots), and nothing here runs on the ingress path. While
// webhooks keep arriving, the worker as a whole keeps to a small share of the loop: it counts the time
// its own code took (passes, sends, settles, across all in-flight deliveries) and before each new
// claim rests in proportion (lib/yield-to-ingress.ts); a backlog built under load goes out once
// ingress is quiet.
// Over 300 lines on purpose: fan-out, claim, send and settle share the in-flight slots, the lease
// owner, the loop share and the health refresh; the claim is store/subscriptions-repo.ts, signing and
// the horizon their own files.
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
import { type EventRow, eventsRepo } from '../store/events-repo.js';
import {
  type AttemptRow,
  type DeliveryRow,
  type SubscriptionRow,
  subscriptionsRepo,
} from '../store/subscriptions-repo.js';
import { makeDurable, withRedoableTransaction, withTransaction } from '../store/transactions.js';
import { createCommitHorizon } from './commit-horizon.js';
import { type PostOutcome, postWebhook } from './post-webhook.js';
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
// The loop's share for all deliveries together while webhooks keep arriving (SPEC §11: the event log
// costs ingress less than 10%, and the inbox processor takes its own share besides); the wait is
// bounded so deliveries never stop under load.
const INGRESS_SHARE = { share: 0.05, maxWaitMs: 1000 };

/** One subscription's cursor move of a pass: to `cursor`, writing `rows`. */
interface FanOutMove {
  sub: SubscriptionRow;
  rows: DeliveryRow[];
  cursor: number;
  /** The read was a whole batch: more events may follow. */
  full: boolean;
  /** Set by the pass's transaction: false when another instance moved the cursor first. */
  moved: boolean;
}

/** A finished send waiting for the next settle transaction. */
interface Finished {
  sub: SubscriptionRow;
  row: DeliveryRow;
  out: PostOutcome;
  forceDead: boolean;
  eventType: string;
  done: () => void;
  failed: (err: unknown) => void;
}

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

  // Loop time the worker's own code took since its last rest (passes, sends, settles).
  let spent = 0;
  let finished: Finished[] = [];
  let settling: Promise<void> | undefined;

  async function pass(): Promise<void> {
    const startedAt = performance.now();
    await claimAndSend();
    spent += performance.now() - startedAt;
    if (!hasSubscriptions) return;
    // All of it counts as one unit of work that ended now (yieldToIngress measures from its start).
    const used = spent;
    spent = 0;
    await yieldToIngress(deps.ingress, performance.now() - used, INGRESS_SHARE);
  }

  async function claimAndSend(): Promise<void> {
    const subs = await subscriptionsRepo.enabled(deps.db);
    hasSubscriptions = subs.length > 0;
    held = false;
    if (!hasSubscriptions) return;
    const moves = await fanOutPlan(subs);
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
    if (moves.length === 0 && rooms.length === 0) return;
    // The pass's fan-out and every subscription's claim in one commit: a commit per step was most
    // of the pass's cost, each one writing the same index pages again.
    // Lost (a power loss), the pass is made again: the same events fanned out and claimed, sent
    // under the same ids. So it needs no barrier of its own before the sends below.
    const claimed = await withRedoableTransaction(
      deps.db,
      async (trx) => {
        for (const move of moves)
          move.moved = await subscriptionsRepo.fanOut(trx, move.sub, move.rows, move.cursor);
        const out: DeliveryRow[][] = [];
        for (const { sub, room } of rooms) {
          out.push(
            await subscriptionsRepo.claim(trx, sub.id, deps.owner, now, now + config.timeout + 5000, room),
          );
        }
        return out;
      },
      { repeatsOnLoss: true },
    );
    // A full batch leaves more events behind it: the loop goes round once more.
    if (moves.some((m) => m.moved && m.full)) wake();
    const ids = claimed.flat().map((row) => row.event_id);
    // The processing that recorded these events is redoable: it is made durable before any of them
    // is POSTed, so a power loss cannot take back an event a subscriber has.
    if (ids.length > 0) await makeDurable(deps.db, now);
    const byId = new Map<string, EventRow>();
    for (let i = 0; i < ids.length; i += FAN_OUT_BATCH) {
      for (const e of await eventsRepo.byIds(deps.db, ids.slice(i, i + FAN_OUT_BATCH))) byId.set(e.id, e);
    }
    for (const [i, { sub, running }] of rooms.entries()) {
      for (const row of claimed[i] ?? []) {
        const p: Promise<void> = deliver(sub, row, byId.get(row.event_id))
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

  /**
   * Where each subscription's cursor moves next over the log (one batch of events each, read up to
   * the commit horizon), with the deliveries for the events it matches. Subscriptions at the same
   * cursor (the usual case) share the read.
   */
  async function fanOutPlan(subs: SubscriptionRow[]): Promise<FanOutMove[]> {
    const reads = new Map<number, Promise<EventRow[]>>();
    const moves: FanOutMove[] = [];
    for (const sub of subs) {
      let read = reads.get(sub.cursor_seq);
      if (!read) {
        read = readAfter(sub.cursor_seq);
        reads.set(sub.cursor_seq, read);
      }
      const events = await read;
      if (events.length === 0) continue;
      const filter = subscriptionFilter(sub);
      const now = deps.clock.now();
      moves.push({
        sub,
        rows: events.filter((e) => matches(filter, e)).map((e) => newDelivery(deps.ids, sub.id, e, now)),
        cursor: (events[events.length - 1] as EventRow).seq,
        full: events.length === FAN_OUT_BATCH,
        moved: false,
      });
    }
    return moves;
  }

  /** The next batch of the log after `cursor`, never past the commit horizon. */
  async function readAfter(cursor: number): Promise<EventRow[]> {
    const read = await eventsRepo.after(deps.db, cursor, FAN_OUT_BATCH);
    if (read.length === 0) return read;
    const last = (read[read.length - 1] as EventRow).seq;
    if (last <= horizon.known()) return read;
    const safe = await horizon.safe();
    if (last > safe) held = true;
    // Read again up to the horizon: an event below it may have committed after the first read.
    return safe > cursor ? eventsRepo.after(deps.db, cursor, FAN_OUT_BATCH, {}, safe) : [];
  }

  async function deliver(sub: SubscriptionRow, row: DeliveryRow, event: EventRow | undefined): Promise<void> {
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
    const startedAt = performance.now();
    const body = JSON.stringify(toEnvelope(event));
    const headers = signatureHeaders(
      signingSecrets(sub, deps.clock.now()),
      event.id,
      Math.floor(deps.wallClock.now() / 1000),
      body,
    );
    const sent = postWebhook(sub.url, headers, body, config.timeout);
    spent += performance.now() - startedAt;
    await settle(sub, row, await sent, false, event.type);
  }

  /** Resolves once the outcome is committed (with every other one finished meanwhile). */
  function settle(
    sub: SubscriptionRow,
    row: DeliveryRow,
    out: PostOutcome,
    forceDead: boolean,
    eventType = 'unknown',
  ): Promise<void> {
    return new Promise<void>((done, failed) => {
      finished.push({ sub, row, out, forceDead, eventType, done, failed });
      if (!settling) settling = new Promise<void>((resolve) => setImmediate(resolve)).then(settleFinished);
    });
  }

  async function settleFinished(): Promise<void> {
    const batch = finished;
    finished = [];
    const startedAt = performance.now();
    try {
      // Lost, a settle sends its events again under the same ids; unless it disabled a subscription,
      // which records an event of its own.
      const notes = await withRedoableTransaction(
        deps.db,
        async (trx) => {
          // Each subscription read once per batch and kept current here as its outcomes apply.
          const fresh = new Map<string, SubscriptionRow>();
          const out: Note[] = [];
          const attempts: AttemptRow[] = [];
          for (const f of batch) {
            let sub = fresh.get(f.sub.id);
            if (!sub) {
              sub = (await subscriptionsRepo.get(trx, f.sub.id)) ?? f.sub;
              fresh.set(f.sub.id, sub);
            }
            out.push(await recordOutcome(trx, sub, f, attempts));
          }
          await subscriptionsRepo.recordAttempts(trx, attempts);
          return out;
        },
        { repeatsOnLoss: (recorded) => recorded.every((n) => n.disabled === null) },
      );
      for (const note of notes) report(note);
      if (notes.some((n) => n.healthChanged)) await refreshHealth();
      for (const f of batch) f.done();
    } catch (err) {
      for (const f of batch) f.failed(err);
    } finally {
      spent += performance.now() - startedAt;
      settling = undefined;
      // Outcomes that arrived while this batch was committed go in the next one.
      if (finished.length > 0) {
        settling = new Promise<void>((resolve) => setImmediate(resolve)).then(settleFinished);
      }
    }
  }

  interface Note {
    f: Finished;
    outcome: 'delivered' | 'retry' | 'dead' | 'gone';
    attempts: number;
    disabled: string | null;
    healthChanged: boolean;
  }

  /**
   * One outcome, inside the batch's transaction; `sub` is the subscription as it now stands. The
   * attempt is added to `attempts`, which the batch inserts together.
   */
  async function recordOutcome(
    trx: Db,
    sub: SubscriptionRow,
    f: Finished,
    attempts: AttemptRow[],
  ): Promise<Note> {
    const { row, out, forceDead } = f;
    const config = deps.config().events.delivery;
    const now = deps.clock.now();
    const attempt = row.attempts + 1;
    const gone = out.status === 410;
    let outcome: Note['outcome'];
    let nextAt = now;
    if (out.ok) outcome = 'delivered';
    else if (gone) outcome = 'gone';
    else {
      nextAt = now + backoff(attempt, config.backoff_min, config.backoff_max, deps.random);
      outcome = forceDead || nextAt > row.created_at + config.retry_for ? 'dead' : 'retry';
    }
    const note: Note = {
      f,
      outcome,
      attempts: attempt,
      disabled: null,
      healthChanged: outcome !== 'delivered',
    };
    attempts.push({
      id: deps.ids.next(),
      subscription_id: sub.id,
      delivery_id: row.id,
      event_id: row.event_id,
      event_type: f.eventType,
      at: now,
      status_code: out.status,
      latency_ms: out.latency_ms,
      error: out.error,
    });
    const held = await subscriptionsRepo.settle(trx, row.id, deps.owner, {
      state: outcome === 'delivered' ? 'delivered' : outcome === 'retry' ? 'pending' : 'dead',
      attempts: attempt,
      next_attempt_at: nextAt,
      last_status: out.status,
      last_error: out.error,
      updated_at: now,
      ...(outcome === 'delivered' ? { delivered_at: now } : {}),
    });
    // Our lease expired and another owner took the row: its answer counts, not ours.
    if (!held) return note;
    if (outcome === 'delivered') {
      note.healthChanged = sub.failing_since !== null;
      // A healthy subscription's last success is kept to the second, not rewritten per delivery.
      if (!note.healthChanged && sub.last_error === null && now - (sub.last_success_at ?? 0) < 1000)
        return note;
      await update(trx, sub, { last_success_at: now, failing_since: null, last_error: null });
      return note;
    }
    const failingSince = sub.failing_since ?? now;
    await update(trx, sub, { last_failure_at: now, failing_since: failingSince, last_error: out.error });
    let disabled: string | null = null;
    if (gone) disabled = 'the subscriber answered 410 Gone';
    else if (now - failingSince >= config.disable_after) {
      disabled = `no delivery succeeded for ${Math.round((now - failingSince) / 86_400_000)} days`;
    }
    if (disabled && sub.enabled === 1) {
      await update(trx, sub, { enabled: 0, disabled_reason: disabled, updated_at: now });
      note.disabled = disabled;
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
    }
    return note;
  }

  /** Writes the patch and keeps the batch's copy of the subscription in step with it. */
  async function update(trx: Db, sub: SubscriptionRow, patch: Partial<SubscriptionRow>): Promise<void> {
    await subscriptionsRepo.update(trx, sub.id, patch);
    Object.assign(sub, patch);
  }

  function report({ f, outcome, attempts, disabled }: Note): void {
    outcomes.inc({ outcome });
    if (outcome !== 'delivered') {
      log.warn(
        {
          event: `events.delivery_${outcome}`,
          subscription_id: f.sub.id,
          event_id: f.row.event_id,
          attempts,
          status: f.out.status,
        },
        `webhook delivery ${outcome === 'retry' ? 'failed; will retry' : outcome}: ${f.out.error ?? ''}`,
      );
    }
    if (disabled) {
      log.error(
        { event: 'events.subscription_disabled', subscription_id: f.sub.id },
        `webhook subscription disabled: ${disabled}`,
      );
    }
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
        if (hasSubscriptions) wake();
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
