// The scheduler (SPEC §6): a croner tick every `scheduler.tick_every` that claims due follow-ups in due
// order and in bounded batches, decides each (state, opt-out, attachment, quiet hours, max, window)
// and writes its outbox row in the same transaction; then runs housekeeping (housekeeping.ts: SLA
// escalation, idle close, retention purge). Ticks never overlap within the process; across instances
// (several daemons on one PostgreSQL, SPEC §10) each batch is claimed in one statement with this
// instance as owner and a lease of `scheduler.lease`, and decided in a transaction that holds only
// the rows still its own, in chunks with the event loop handed back between them; a batch takes well
// under a second even at its share of a busy loop, so the lease (minutes) needs no renewal. A crashed
// instance's claims are taken over by any tick once their lease ran out, its own at its next start.
// Tests call tick() with a fake clock.
import { Cron } from 'croner';
import type { Logger } from 'pino';
import { activeAttachment } from '../agents/attachments.js';
import type { Config } from '../config/schema.js';
import type { Clock } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import type { Service } from '../lib/service.js';
import { type IngressSignal, ingressPacer } from '../lib/yield-to-ingress.js';
import { enqueueOutbound, recipientOf } from '../outbound/outbox.js';
import { agentsRepo } from '../store/agents-repo.js';
import type { Db } from '../store/db.js';
import { type DueFollowUp, followUpsRepo } from '../store/follow-ups-repo.js';
import { withTransaction } from '../store/transactions.js';
import { deferredDueAt, kindAt } from './follow-up-plan.js';
import { planNext, recordFollowUpSkipped } from './follow-ups.js';
import { type HousekeepingReport, housekeeping, type Pace } from './housekeeping.js';

export interface SchedulerDeps {
  db: Db;
  /** This daemon's instance id: the owner of the follow-ups it claims. */
  owner: string;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  config: () => Config;
  /** True while the database must not be written (store/writability.ts): no new work is taken. */
  paused?: () => boolean;
  /**
   * Run first on every tick: brings what other instances changed into this one (SPEC §10: a config
   * change made on one instance takes effect on all within one tick).
   */
  beforeTick?: () => Promise<void>;
  /** Called after a tick wrote outbox rows. */
  onEnqueued?: () => void;
  /** Run ticks on the croner schedule (default true); tests call tick() themselves instead. */
  cron?: boolean;
  /**
   * Webhook ingress: a tick with much to do (hundreds of escalations after a burst) takes the loop in
   * short slices and, while deliveries keep arriving, at most its share of it (lib/yield-to-ingress.ts).
   */
  ingress?: IngressSignal;
}

/** A tick holds the event loop at most this long before letting requests through. */
const TICK_SLICE_MS = 5;
/** Its share of the loop while deliveries keep arriving, as the inbox processor's base share. */
const TICK_SHARE = 0.3;
/**
 * Follow-ups decided per transaction: a claimed batch is up to scheduler.batch_size (500), and
 * deciding it in one transaction (an outbox row and events each) would hold the loop for 100 ms or
 * more. The batch's claim and lease cover all its chunks.
 */
const DECIDE_CHUNK = 25;

export interface TickReport extends HousekeepingReport {
  claimed: number;
  enqueued: number;
  skipped: number;
  deferred: number;
  cancelled: number;
  batches: number;
}

export interface Scheduler extends Service {
  /** One tick now (after the running one, if any). */
  tick(): Promise<TickReport>;
  /** A new tick interval takes effect. */
  configChanged(next: Config, previous: Config): void;
}

type Decision = 'enqueued' | 'skipped' | 'deferred' | 'cancelled';

export function createScheduler(deps: SchedulerDeps): Scheduler {
  const log = deps.logger.child({ module: 'scheduler' });
  let job: Cron | undefined;
  let running: Promise<TickReport> | undefined;
  let stopped = false;

  async function decide(
    trx: Db,
    f: DueFollowUp,
    now: number,
    config: Config,
    active: Map<number | string, boolean>,
    sentCounts: Map<string, Record<string, number>>,
  ): Promise<Decision> {
    const skip = async (reason: string): Promise<Decision> => {
      log.info(
        {
          event: 'follow_up.skipped',
          conversation_id: f.conversation_id,
          follow_up_id: f.id,
          rule_id: f.rule_id,
          reason,
        },
        `follow-up ${f.rule_id} skipped: ${reason}`,
      );
      await followUpsRepo.update(trx, f.id, {
        state: 'skipped',
        skip_reason: reason,
        lease_owner: null,
        lease_until: null,
        updated_at: now,
      });
      await recordFollowUpSkipped(trx, f, { ids: deps.ids, now }, reason);
      await planNext(
        trx,
        {
          id: f.conversation_id,
          conversation_class: f.conversation_class,
          window_expires_at: f.window_expires_at,
        },
        f.silence_from,
        { ids: deps.ids, now, config },
      );
      return 'skipped';
    };
    if (f.queue_state !== 'pending') {
      await followUpsRepo.update(trx, f.id, {
        state: 'cancelled',
        skip_reason: `conversation is ${f.queue_state}`,
        lease_owner: null,
        lease_until: null,
        updated_at: now,
      });
      return 'cancelled';
    }
    const rule = config.follow_up_rules.find((r) => r.id === f.rule_id);
    if (!rule) return skip('rule_removed');
    if (f.opted_out_at !== null) return skip('opted_out');
    if (!(await agentActive(trx, f, active))) return skip('extension_not_active');
    const deferTo = deferredDueAt(now, config.quiet_hours);
    if (deferTo !== null) {
      await followUpsRepo.update(trx, f.id, {
        state: 'scheduled',
        due_at: deferTo,
        lease_owner: null,
        lease_until: null,
        updated_at: now,
      });
      return 'deferred';
    }
    // Counted for the whole batch before it: follow-ups claimed in it are not `sent` yet.
    const sent = sentCounts.get(f.conversation_id)?.[rule.id] ?? 0;
    if (sent >= rule.max_per_conversation) return skip('max_reached');
    const kind = kindAt(rule, now, f.window_expires_at, 0);
    if (kind === null) return skip('window_closed_no_template');
    const to = recipientOf(f);
    if (!to) return skip('no_recipient');
    const row = await enqueueOutbound(
      trx,
      {
        kind: 'follow_up',
        phone_number_id: f.phone_number_id,
        to,
        content:
          kind === 'text'
            ? { type: 'text', text: rule.text as string }
            : { type: 'template', template: rule.template as NonNullable<typeof rule.template> },
        conversation_id: f.conversation_id,
        contact_id: f.contact_id,
        follow_up_id: f.id,
      },
      { ids: deps.ids, now },
    );
    // Handed over: `claimed` with its outbox row until the send's result moves it on.
    await followUpsRepo.update(trx, f.id, {
      outbox_id: row.id,
      lease_owner: null,
      lease_until: null,
      updated_at: now,
    });
    return 'enqueued';
  }

  /**
   * Automatic sends need the channel's agent with an active attachment (SPEC §1). With no agent for
   * the channel at all nothing is sent automatically either: installing the extension is the consent.
   */
  async function agentActive(
    trx: Db,
    f: DueFollowUp,
    cache: Map<number | string, boolean>,
  ): Promise<boolean> {
    const key = f.agent_id ?? `pnid:${f.phone_number_id}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const agentId = f.agent_id ?? (await agentsRepo.findByPhoneNumberId(trx, f.phone_number_id))?.id;
    const ok = agentId !== undefined && (await activeAttachment(trx, agentId)) !== undefined;
    cache.set(key, ok);
    return ok;
  }

  async function followUps(report: TickReport, config: Config, pace: Pace): Promise<void> {
    const active = new Map<number | string, boolean>();
    const released = await withTransaction(deps.db, (trx) =>
      followUpsRepo.releaseExpiredClaims(trx, deps.clock.now()),
    );
    if (released > 0) {
      log.warn(
        { event: 'follow_up.took_over_claims', count: released },
        `${released} follow-up(s) claimed by an instance whose lease ran out are due again`,
      );
    }
    for (;;) {
      if (stopped) return;
      const now = deps.clock.now();
      // The claim commits on its own: its owner and lease are there for every other instance to see.
      const ids = await withTransaction(deps.db, (trx) =>
        followUpsRepo.claimDue(
          trx,
          deps.owner,
          now,
          now + config.scheduler.lease,
          config.scheduler.batch_size,
        ),
      );
      if (ids.length === 0) return;
      // Decisions are counted after the commit: a deadlock's victim runs again (store/transactions.ts).
      const decisions: Decision[] = [];
      for (let i = 0; i < ids.length && !stopped; i += DECIDE_CHUNK) {
        const chunk = ids.slice(i, i + DECIDE_CHUNK);
        const decided = await withTransaction(deps.db, async (trx) => {
          const due = await followUpsRepo.heldDue(trx, chunk, deps.owner);
          const counts = await followUpsRepo.sentCountsFor(trx, [
            ...new Set(due.map((f) => f.conversation_id)),
          ]);
          const out: Decision[] = [];
          for (const f of due) out.push(await decide(trx, f, now, config, active, counts));
          return out;
        });
        decisions.push(...decided);
        await pace();
      }
      for (const d of decisions) report[d] += 1;
      const n = decisions.length;
      report.claimed += n;
      if (n > 0) report.batches += 1;
      if (report.enqueued > 0) deps.onEnqueued?.();
      if (ids.length < config.scheduler.batch_size) return;
    }
  }

  async function runTick(): Promise<TickReport> {
    const report: TickReport = {
      claimed: 0,
      enqueued: 0,
      skipped: 0,
      deferred: 0,
      cancelled: 0,
      batches: 0,
      escalated: 0,
      closed: 0,
      purged: 0,
      purged_statuses: 0,
    };
    try {
      await deps.beforeTick?.();
    } catch (err) {
      log.error({ event: 'scheduler.refresh_failed', err }, 'could not read shared state; ticking on');
    }
    const config = deps.config();
    const pace = ingressPacer(deps.ingress, {
      sliceMs: TICK_SLICE_MS,
      share: TICK_SHARE,
      maxWaitMs: 50,
    });
    // While the runtime is paused due follow-ups wait (they go out late rather than not at all).
    if (config.runtime.status !== 'paused') await followUps(report, config, pace);
    if (!stopped) await housekeeping(deps, report, config, pace);
    if (report.claimed + report.escalated + report.closed + report.purged + report.purged_statuses > 0) {
      log.info({ event: 'scheduler.tick', ...report }, 'scheduler tick');
    }
    return report;
  }

  function tick(): Promise<TickReport> {
    // Never two at once in this process: a second caller waits for the running tick, then runs its own.
    if (running) return running.catch(() => undefined).then(() => tick());
    running = runTick().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(config: Config): void {
    job?.stop();
    const seconds = Math.max(1, Math.round(config.scheduler.tick_every / 1000));
    job = new Cron('* * * * * *', { interval: seconds, protect: true, unref: true }, async () => {
      if (deps.paused?.()) return;
      await tick().catch((err) =>
        log.error({ event: 'scheduler.tick_failed', err }, 'scheduler tick failed'),
      );
    });
  }

  return {
    name: 'scheduler',
    tick,
    configChanged(next, previous) {
      if (job && next.scheduler.tick_every !== previous.scheduler.tick_every) schedule(next);
    },
    async start() {
      stopped = false;
      // Follow-ups this instance claimed before a crash are due again at once (SPEC §10); those of
      // other instances wait for their leases to run out.
      await withTransaction(deps.db, (trx) =>
        followUpsRepo.releaseOwnClaims(trx, deps.owner, deps.clock.now()),
      );
      if (deps.cron !== false) schedule(deps.config());
    },
    async stop(deadline) {
      stopped = true;
      job?.stop();
      if (!running) return;
      await Promise.race([
        running.catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref()),
      ]);
    },
  };
}
