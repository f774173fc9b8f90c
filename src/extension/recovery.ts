// Recovery actions (SPEC §8, root only): replay dead letters, retry failed sends, reprocess the inbox
// from a point in time, pause and resume the runtime. Each one is a single transaction that also
// writes its audit entry, then wakes the service that carries the work out. Reprocessing is safe
// because inbox processing is idempotent per wamid, status and webhook event.
import type { ConfigStore } from '../config/config-store.js';
import type { Config } from '../config/schema.js';
import { AppError } from '../lib/app-error.js';
import type { AuditActor } from '../lib/audit-actor.js';
import { type Clock, toIso } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import { auditRepo } from '../store/audit-repo.js';
import { contactsRepo } from '../store/contacts-repo.js';
import type { Db } from '../store/db.js';
import { followUpsRepo } from '../store/follow-ups-repo.js';
import { inboxRepo } from '../store/inbox-repo.js';
import { type OutboxRow, outboxRepo } from '../store/outbox-repo.js';
import { withTransaction } from '../store/transactions.js';

export const RECOVERY_ACTIONS = [
  'replay_dead_letters',
  'retry_failed_sends',
  'reprocess_inbox_since',
  'pause_runtime',
  'resume_runtime',
  'sync_templates',
] as const;
export type RecoveryAction = (typeof RECOVERY_ACTIONS)[number];

/** A retry of more rows than this is refused: the operator narrows it with `ids` or repeats it. */
export const MAX_RETRY_ROWS = 10_000;

export interface RecoveryRequest {
  action: RecoveryAction;
  /** reprocess_inbox_since: deliveries received at or after this time (ms). */
  since?: number;
  /** Limit the action to these inbox ids (replay, reprocess) or outbox ids (retry). */
  ids?: string[];
}

export interface RecoveryResult {
  action: RecoveryAction;
  /** What the action changed; each count names its rows. */
  counts: Record<string, number>;
  runtime_status: 'active' | 'paused';
  /** Why the action did not do its work (sync_templates: the sync's error). */
  reason?: string;
}

export interface RecoveryDeps {
  db: Db;
  clock: Clock;
  ids: IdSource;
  config: () => Config;
  configStore: ConfigStore;
  /** Wake the services that carry the work out, after the commit. */
  wakeInbox: () => void;
  wakeSender: () => void;
  /** sync_templates (SPEC §14): the template sync, run now. */
  syncTemplates?: () => Promise<{ ok: boolean; templates: number; removed: number; reason: string | null }>;
}

export async function runRecovery(
  deps: RecoveryDeps,
  req: RecoveryRequest,
  by: AuditActor,
): Promise<RecoveryResult> {
  const actor = by.token_id;
  const now = deps.clock.now();
  const audit = (trx: Db, counts: Record<string, number>) =>
    auditRepo.record(trx, {
      id: deps.ids.next(),
      actor,
      action: `recovery.${req.action}`,
      details: JSON.stringify({
        counts,
        ...(req.since !== undefined ? { since: toIso(req.since) } : {}),
        ...(req.ids ? { ids: req.ids.length } : {}),
        outcome: 'done',
        request_id: by.request_id,
      }),
      at: now,
    });
  const result = (counts: Record<string, number>): RecoveryResult => ({
    action: req.action,
    counts,
    runtime_status: deps.config().runtime.status,
  });

  switch (req.action) {
    case 'replay_dead_letters': {
      const counts = await withTransaction(deps.db, async (trx) => {
        const c = { replayed: await inboxRepo.replayDeadLetters(trx, now, req.ids) };
        await audit(trx, c);
        return c;
      });
      deps.wakeInbox();
      return result(counts);
    }
    case 'reprocess_inbox_since': {
      if (req.since === undefined) {
        throw new AppError('validation_failed', 'invalid body: since is required for reprocess_inbox_since', [
          { path: 'since', message: 'is required for reprocess_inbox_since' },
        ]);
      }
      if (req.since > now) {
        throw new AppError('validation_failed', 'invalid body: since is in the future', [
          { path: 'since', message: 'is in the future' },
        ]);
      }
      const since = req.since;
      const counts = await withTransaction(deps.db, async (trx) => {
        const c = { requeued: await inboxRepo.reprocessInboxSince(trx, since, now, req.ids) };
        await audit(trx, c);
        return c;
      });
      deps.wakeInbox();
      return result(counts);
    }
    case 'retry_failed_sends': {
      const counts = await withTransaction(deps.db, async (trx) => {
        const rows = await outboxRepo.listFailed(trx, MAX_RETRY_ROWS + 1, req.ids);
        if (rows.length > MAX_RETRY_ROWS) {
          throw new AppError(
            'conflict',
            `more than ${MAX_RETRY_ROWS} sends failed; retry them in parts by passing their ids`,
          );
        }
        const c = { requeued: 0, skipped_opted_out: 0, skipped_superseded: 0 };
        for (const row of rows) {
          const verdict = await retryVerdict(trx, row);
          if (verdict !== 'retry') {
            c[verdict] += 1;
            continue;
          }
          if (!(await outboxRepo.requeueFailed(trx, row, now))) continue;
          if (row.follow_up_id) {
            await followUpsRepo.update(trx, row.follow_up_id, {
              state: 'claimed',
              skip_reason: null,
              updated_at: now,
            });
          }
          c.requeued += 1;
        }
        await audit(trx, c);
        return c;
      });
      deps.wakeSender();
      return result(counts);
    }
    case 'sync_templates': {
      // The network call first, then the audit entry in its own transaction.
      const report = deps.syncTemplates
        ? await deps.syncTemplates()
        : { ok: false, templates: 0, removed: 0, reason: 'no template sync' };
      const counts = {
        synced: report.ok ? report.templates : 0,
        removed: report.removed,
        failed: report.ok ? 0 : 1,
      };
      await withTransaction(deps.db, (trx) => audit(trx, counts));
      return { ...result(counts), ...(report.reason ? { reason: report.reason } : {}) };
    }
    case 'pause_runtime':
    case 'resume_runtime': {
      const target = req.action === 'pause_runtime' ? 'paused' : 'active';
      if (deps.config().runtime.status === target) {
        await withTransaction(deps.db, (trx) => audit(trx, { changed: 0 }));
        return result({ changed: 0 });
      }
      // Through the config store, exactly as a root PUT of runtime.status: versioned, and every
      // subscriber (the sender pauses its queues) hears about it.
      await deps.configStore.update({
        changes: { runtime: { status: target } },
        changedKeys: ['runtime.status'],
        actor,
        reason: `recovery:${req.action}`,
        audit: true,
        auditAction: `recovery.${req.action}`,
        auditDetails: { counts: { changed: 1 }, outcome: 'done', request_id: by.request_id },
      });
      if (target === 'active') deps.wakeSender();
      return result({ changed: 1 });
    }
  }
}

/**
 * Whether a failed row may go out again: never an automated message to a contact who opted out
 * since, and never a follow-up whose job has moved on (re-planned as a template, or cancelled).
 */
async function retryVerdict(
  trx: Db,
  row: OutboxRow,
): Promise<'retry' | 'skipped_opted_out' | 'skipped_superseded'> {
  if (row.kind !== 'manual' && row.contact_id) {
    const contact = await contactsRepo.get(trx, row.contact_id);
    if (contact?.opted_out_at != null) return 'skipped_opted_out';
  }
  if (row.follow_up_id) {
    const fu = await followUpsRepo.get(trx, row.follow_up_id);
    if (!fu || fu.outbox_id !== row.id || fu.state !== 'failed') return 'skipped_superseded';
  }
  return 'retry';
}
