// The campaign feeder (SPEC §7): a background service that moves each running campaign's queued
// recipients into the outbox, in list order and in bounded batches: at most about one second of the
// campaign's sends sit in the outbox at a time, so pausing takes effect at once and replies never
// queue behind a campaign. The send rate itself is held by the campaign's limiter in the pacing
// queue (campaign-limiters.ts). It promotes scheduled campaigns at start_at, waits out quiet hours,
// skips opted-out customers, and completes a campaign when no recipient is still queued.
// Exactly once: a recipient gets its outbox row in the same transaction that sets its outbox_id
// (guarded on it being null), and the outbox allows one live row per recipient (migration 0005).
// Across instances (SPEC §10) a feed holds its campaign's row lock (PostgreSQL) for its transaction.
import type { Logger } from 'pino';
import { activeAttachment } from '../agents/attachments.js';
import type { Config } from '../config/schema.js';
import type { Clock } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import type { Service } from '../lib/service.js';
import { enqueueOutbound } from '../outbound/outbox.js';
import type { TemplateMessage } from '../outbound/transports/transport.js';
import { isQuiet } from '../scheduler/quiet-hours.js';
import { type CampaignRow, campaignsRepo } from '../store/campaigns-repo.js';
import { conversationsRepo } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import { templatesRepo } from '../store/templates-repo.js';
import { withTransaction } from '../store/transactions.js';
import { failureVerdict, templateVerdict } from './auto-pause.js';
import { type CampaignLimiters, callbackDataFor } from './campaign-limiters.js';
import { moveCampaign } from './campaign-transitions.js';
import { type RecipientParameters, templateFor } from './recipients.js';
import { pauseWithReason } from './service.js';

export interface FeederDeps {
  db: Db;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  config: () => Config;
  limiters: CampaignLimiters;
  /** True while the database must not be written (store/writability.ts): no new work is taken. */
  paused?: () => boolean;
  /** New outbox rows were committed. */
  onEnqueued?: () => void;
  /** How often campaigns are looked at, ms (default 100: the outbox holds one second of sends). */
  pollMs?: number;
}

export interface FeedReport {
  enqueued: number;
  skipped_opted_out: number;
  started: number;
  completed: number;
  /** Campaigns that paused themselves (SPEC §14 auto-pause). */
  paused: number;
}

export interface CampaignFeeder extends Service {
  /** Feed now (after the running pass, if any). */
  feed(): Promise<FeedReport>;
  /** Something changed (start, resume): feed soon. */
  wake(): void;
}

/** Most recipients handed to the outbox per campaign per pass. */
const MAX_BATCH = 500;

/** How many of the campaign's sends may wait in the outbox: one second's worth. */
export function outboxWindow(ratePerSecond: number): number {
  return Math.min(MAX_BATCH, Math.max(1, Math.ceil(ratePerSecond)));
}

export function createCampaignFeeder(deps: FeederDeps): CampaignFeeder {
  const log = deps.logger.child({ module: 'campaigns' });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<FeedReport> | undefined;
  let stopped = false;

  async function feedCampaign(c: CampaignRow, now: number, report: FeedReport) {
    const template = JSON.parse(c.template) as TemplateMessage;
    // Counted into the report after the commit: a deadlock's victim runs again (store/transactions.ts).
    const tally = { enqueued: 0, skipped_opted_out: 0 };
    await withTransaction(deps.db, async (trx) => {
      tally.enqueued = 0;
      tally.skipped_opted_out = 0;
      // The campaign's row lock is the feed's claim: no lease, since no work outlives this transaction.
      const fresh = await campaignsRepo.getForFeeding(trx, c.id);
      if (fresh?.state !== 'running') return;
      const room = outboxWindow(fresh.rate_per_second) - (await campaignsRepo.inOutbox(trx, c.id)).length;
      for (const r of await campaignsRepo.feedable(trx, c.id, room)) {
        if (r.opted_out_at !== null) {
          await campaignsRepo.moveRecipient(trx, r, ['queued'], 'skipped_opted_out', {
            contact_id: r.known_contact_id,
            updated_at: now,
          });
          tally.skipped_opted_out++;
          continue;
        }
        const current = r.known_contact_id
          ? await conversationsRepo.findCurrent(trx, c.phone_number_id, r.known_contact_id)
          : undefined;
        const parameters = r.parameters === null ? null : (JSON.parse(r.parameters) as RecipientParameters);
        const row = await enqueueOutbound(
          trx,
          {
            kind: 'campaign',
            phone_number_id: c.phone_number_id,
            to: { wa_id: r.wa_id },
            content: { type: 'template', template: templateFor(template, parameters) },
            // The send shows in the customer's open conversation, if they have one.
            conversation_id: current && current.closed_at === null ? current.id : null,
            contact_id: r.known_contact_id,
            campaign_recipient_id: r.id,
            biz_opaque_callback_data: callbackDataFor(c.id, r.id),
          },
          { ids: deps.ids, now },
        );
        await campaignsRepo.patchRecipient(
          trx,
          r.id,
          { outbox_id: row.id, contact_id: r.known_contact_id, updated_at: now },
          null,
        );
        tally.enqueued++;
      }
    });
    report.enqueued += tally.enqueued;
    report.skipped_opted_out += tally.skipped_opted_out;
  }

  /** Why a running campaign must pause now: its failures, or its template's status or quality. */
  async function autoPauseReason(c: CampaignRow, config: Config): Promise<string | null> {
    const failing = failureVerdict(c.recent_outcomes ?? '', config.campaigns);
    if (failing) return failing;
    const template = JSON.parse(c.template) as TemplateMessage;
    return templateVerdict(template, await templatesRepo.get(deps.db, template.name, template.language));
  }

  async function feedOnce(): Promise<FeedReport> {
    const report: FeedReport = { enqueued: 0, skipped_opted_out: 0, started: 0, completed: 0, paused: 0 };
    const config = deps.config();
    if (config.runtime.status === 'paused') return report;
    const now = deps.clock.now();
    const quiet = config.quiet_hours !== null && isQuiet(now, config.quiet_hours);
    for (const c of await campaignsRepo.inStates(deps.db, ['scheduled', 'running'])) {
      if (stopped) break;
      let state = c.state;
      if (state === 'scheduled' && (c.start_at ?? 0) <= now) {
        const ok = await withTransaction(deps.db, (trx) =>
          moveCampaign(trx, c, ['scheduled'], 'running', { updated_at: now }, { ids: deps.ids, now }),
        );
        if (ok) {
          state = 'running';
          report.started++;
          log.info({ event: 'campaign.started', campaign_id: c.id }, 'scheduled campaign started');
        }
      }
      if (state !== 'running') continue;
      deps.limiters.ensure(c.id, c.rate_per_second);
      if (c.count_queued === 0) {
        const done = await withTransaction(deps.db, (trx) =>
          moveCampaign(
            trx,
            { ...c, state },
            ['running'],
            'completed',
            { completed_at: now, updated_at: now },
            { ids: deps.ids, now },
          ),
        );
        if (done) {
          report.completed++;
          deps.limiters.forget(c.id);
          log.info({ event: 'campaign.completed', campaign_id: c.id }, 'campaign completed');
        }
        continue;
      }
      // Auto-pause (SPEC §14) before each batch: at most one second of sends is in the outbox.
      const why = await autoPauseReason(c, config);
      if (why) {
        const paused = await withTransaction(deps.db, (trx) =>
          pauseWithReason(trx, c, why, { ids: deps.ids, now }),
        );
        if (paused) {
          report.paused++;
          log.warn(
            { event: 'campaign.paused', campaign_id: c.id, pause_reason: why },
            `campaign paused itself: ${why}`,
          );
        }
        continue;
      }
      if (quiet) continue;
      if (!(await activeAttachment(deps.db, c.agent_id))) continue;
      await feedCampaign(c, now, report);
    }
    if (report.enqueued > 0) deps.onEnqueued?.();
    return report;
  }

  function feed(): Promise<FeedReport> {
    const previous = running ?? Promise.resolve(undefined);
    const next = previous.then(() => feedOnce());
    running = next;
    return next.finally(() => {
      if (running === next) running = undefined;
    });
  }

  function wake(): void {
    if (stopped || running || deps.paused?.()) return;
    feed().catch((err) =>
      log.error({ event: 'campaign.feed_failed', err }, 'feeding campaigns failed; will retry'),
    );
  }

  return {
    name: 'campaign-feeder',
    feed,
    wake,
    async start() {
      stopped = false;
      // Limiters first: rows of running campaigns still in the outbox from the last run keep their cap.
      for (const c of await campaignsRepo.inStates(deps.db, ['scheduled', 'running', 'paused'])) {
        deps.limiters.ensure(c.id, c.rate_per_second);
      }
      timer = setInterval(wake, deps.pollMs ?? 100);
      timer.unref();
      wake();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      while (running) await running.catch(() => undefined);
    },
  };
}
