// Housekeeping, run by every scheduler tick after the due follow-ups (SPEC §6): SLA escalation of
// conversations waiting too long, idle close, and the retention purge of processed and rejected
// webhook rows, status events that never matched a message, and old minute rollups. Each in bounded
// batches, each change in its own transaction, with the loop handed back between them (`pace`).
import type { Config } from '../config/schema.js';
import { applyConversationEvent } from '../conversations/engine.js';
import type { ConversationEvent } from '../conversations/state-machine.js';
import { pruneMinuteRollups } from '../insights/insight-rollups.js';
import { AppError } from '../lib/app-error.js';
import type { Clock } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import { contactsRepo } from '../store/contacts-repo.js';
import type { ConversationRow } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import { eventsRepo } from '../store/events-repo.js';
import { housekeepingRepo } from '../store/housekeeping-repo.js';
import { subscriptionsRepo } from '../store/subscriptions-repo.js';
import { withRedoableTransaction, withTransaction } from '../store/transactions.js';

export interface HousekeepingDeps {
  db: Db;
  clock: Clock;
  ids: IdSource;
}

/** Awaited after each conversation changed: lets webhook answers through a long pass (lib/yield-to-ingress.ts). */
export type Pace = () => Promise<void>;

/** What one housekeeping pass did (part of the tick's report). */
export interface HousekeepingReport {
  escalated: number;
  closed: number;
  /** Processed and rejected inbox rows past `retention.raw_webhooks`. */
  purged: number;
  /** Status events that matched no message within `retention.unmatched_statuses`. */
  purged_statuses: number;
}

/**
 * One engine event for a candidate conversation; false when it is no longer a candidate or no longer
 * allows it. The candidate is read again inside the transaction, under a row lock (SPEC §10): it was
 * listed outside it, and the customer may have written, or another instance acted, since.
 */
async function engineEvent(
  deps: HousekeepingDeps,
  stillCandidate: (trx: Db) => Promise<ConversationRow | undefined>,
  event: ConversationEvent,
  config: Config,
): Promise<boolean> {
  // Redoable (not fsynced by itself): a lost commit leaves the conversation a candidate, and the next
  // tick escalates or closes it again. A tick that escalated a thousand conversations after a burst
  // spent an fsync on each, holding the event loop (and ingress) for seconds.
  return withRedoableTransaction(deps.db, async (trx) => {
    const conv = await stillCandidate(trx);
    if (!conv) return false;
    const contact = await contactsRepo.get(trx, conv.contact_id);
    if (!contact) return false;
    try {
      await applyConversationEvent(
        trx,
        { conversation: conv, contact, phone_number_id: conv.phone_number_id, event },
        { ids: deps.ids, now: deps.clock.now(), config },
      );
      return true;
    } catch (err) {
      if (err instanceof AppError && err.code === 'invalid_state') return false;
      throw err;
    }
  });
}

export async function housekeeping(
  deps: HousekeepingDeps,
  report: HousekeepingReport,
  config: Config,
  pace: Pace,
): Promise<void> {
  const now = deps.clock.now();
  const limit = config.scheduler.batch_size;
  if (config.escalation.sla !== null) {
    const cutoff = now - config.escalation.sla;
    for (const conv of await housekeepingRepo.slaCandidates(deps.db, cutoff, limit)) {
      const still = (trx: Db) => housekeepingRepo.lockSlaCandidate(trx, conv.id, cutoff);
      if (await engineEvent(deps, still, { type: 'sla_breach' }, config)) report.escalated += 1;
      await pace();
    }
  }
  const idleCutoff = now - config.conversations.close_after;
  for (const conv of await housekeepingRepo.idleCandidates(deps.db, idleCutoff, limit)) {
    const still = (trx: Db) => housekeepingRepo.lockIdleCandidate(trx, conv.id, idleCutoff);
    const close = { type: 'close', reason: 'idle', actor: 'scheduler' } as const;
    if (await engineEvent(deps, still, close, config)) report.closed += 1;
    await pace();
  }
  report.purged = await withTransaction(deps.db, (trx) =>
    housekeepingRepo.purgeFinishedInbox(trx, now - config.retention.raw_webhooks, limit),
  );
  report.purged_statuses = await withTransaction(deps.db, (trx) =>
    housekeepingRepo.purgeUnmatchedStatuses(trx, now - config.retention.unmatched_statuses, limit),
  );
  // Insights' minute rollups are read only at a window's ends, at most 30 days back.
  await withTransaction(deps.db, (trx) => pruneMinuteRollups(trx, now, limit));
  // Events out (SPEC §11): the log and the delivery records are kept events.retention for replay.
  await withTransaction(deps.db, async (trx) => {
    const before = now - config.events.retention;
    await eventsRepo.prune(trx, before, limit);
    await subscriptionsRepo.prune(trx, before, limit);
  });
}
