// POST .../management/recovery (root): one recovery action per request, audited (SPEC §8).
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { RECOVERY_ACTIONS, runRecovery } from '../../extension/recovery.js';
import { AppError } from '../../lib/app-error.js';
import type { ApiRouter } from '../api-router.js';

export const RECOVERY_PATH = '/api/extensions/native-whatsapp/management/recovery';

const body = z.strictObject({
  action: z.enum(RECOVERY_ACTIONS),
  since: z.iso
    .datetime({ offset: true, error: 'must be an ISO-8601 date-time, like 2026-01-05T08:00:00Z' })
    .optional()
    .describe('reprocess_inbox_since: deliveries received at or after this time'),
  ids: z
    .array(z.string().min(1).max(100))
    .min(1)
    .max(1000)
    .optional()
    .describe('only these inbox ids (replay, reprocess) or outbox ids (retry_failed_sends)'),
});

const answer = z.object({
  action: z.enum(RECOVERY_ACTIONS),
  counts: z
    .record(z.string(), z.number().int())
    .describe(
      'replayed | requeued (+ skipped_opted_out, skipped_superseded for sends) | changed (pause/resume) | synced, removed, failed (sync_templates)',
    ),
  runtime_status: z.enum(['active', 'paused']),
  reason: z.string().optional().describe('sync_templates: why the sync failed (the cache is unchanged)'),
});

export function mountRecoveryRoutes(router: ApiRouter, deps: AppDeps): void {
  router.add(
    {
      method: 'post',
      path: RECOVERY_PATH,
      tier: 'root',
      auditedBy: 'service',
      tag: 'management',
      summary: 'Run a recovery action: replay dead letters, retry failed sends, reprocess, pause, resume.',
      description:
        'replay_dead_letters: dead inbox rows go back to pending. retry_failed_sends: failed and dead ' +
        'outbox rows are queued again with fresh attempts (not automated messages to contacts who opted ' +
        'out, not follow-ups re-planned meanwhile). reprocess_inbox_since: processed and dead deliveries ' +
        'received at or after `since` are processed again; effects stay once per wamid. pause_runtime / ' +
        'resume_runtime set runtime.status like a root PUT of the config: while paused nothing is sent. ' +
        'sync_templates: the template cache is synced from the Graph API now (SPEC §14). ' +
        'Every action is written to the audit log.',
      body,
      responses: {
        200: { description: 'what the action did', schema: answer },
        400: { description: 'invalid body (since missing for reprocess_inbox_since, unknown action, ...)' },
        403: { description: 'needs a root token' },
      },
    },
    async (c, { body, token }) => {
      if (!token) throw new AppError('unauthorized', 'missing bearer token');
      const out = await runRecovery(
        {
          db: deps.db,
          clock: deps.clock,
          ids: deps.ids,
          config: deps.config,
          configStore: deps.configStore,
          wakeInbox: () => deps.inbox.processor.wake(),
          wakeSender: () => deps.outbound.sender.wake(),
          syncTemplates: () => deps.campaigns.templates.sync(),
        },
        {
          action: body.action,
          since: body.since === undefined ? undefined : Date.parse(body.since),
          ids: body.ids,
        },
        { token_id: token.id, request_id: c.get('requestId') ?? null },
      );
      return c.json(out);
    },
  );
}
