// A webhook field that is not a message or a status (account, template and preference updates, a
// messages change's value-level errors) → one webhook_events record per content, the template cache,
// and template.status_changed when a template's status moves. Inside the caller's transaction.
import { createHash } from 'node:crypto';
import { recordEvent } from '../events/record-event.js';
import type { Db } from '../store/db.js';
import { templatesRepo } from '../store/templates-repo.js';
import { webhookLogRepo } from '../store/webhook-log-repo.js';
import type { PendingEvent } from './delivery-items.js';
import type { ProcessContext } from './process-context.js';

/** Applies one field; true when its content was new (not already stored from another delivery). */
export async function applyWebhookField(
  trx: Db,
  e: PendingEvent,
  row: { id: string; received_at: number },
  ctx: ProcessContext,
): Promise<boolean> {
  const fresh = await webhookLogRepo.recordEvent(trx, {
    id: ctx.ids.next(),
    inbox_id: row.id,
    entry_index: e.entryIndex,
    change_index: e.changeIndex,
    field: e.field,
    event: e.event,
    payload: JSON.stringify(e.payload),
    received_at: row.received_at,
    content_hash: contentHash(e.field, e.payload, e.entryTime),
  });
  if (e.template) {
    const previous = await templatesRepo.get(
      trx,
      e.template.message_template_name,
      e.template.message_template_language,
    );
    await templatesRepo.upsertIfNewer(trx, {
      name: e.template.message_template_name,
      language: e.template.message_template_language,
      status: e.template.event,
      category: e.template.message_template_category ?? null,
      template_id: e.template.message_template_id ?? null,
      reason: e.template.reason ?? null,
      updated_at: e.entryTime !== undefined ? e.entryTime * 1000 : row.received_at,
    });
    if (fresh && previous?.status !== e.template.event) {
      await recordEvent(
        trx,
        {
          type: 'template.status_changed',
          agent_uuid: null,
          data: {
            name: e.template.message_template_name,
            language: e.template.message_template_language,
            status: e.template.event,
            previous_status: previous?.status ?? null,
            reason: e.template.reason ?? null,
            template_id: e.template.message_template_id ?? null,
          },
        },
        ctx,
      );
    }
  }
  if (e.quality) {
    await templatesRepo.setQuality(trx, {
      name: e.quality.message_template_name,
      language: e.quality.message_template_language,
      quality: e.quality.new_quality_score.toUpperCase(),
      template_id: e.quality.message_template_id ?? null,
    });
  }
  if (fresh) {
    const level = e.field === 'messages' || e.field === 'account_update' ? 'warn' : 'info';
    ctx.logger[level](
      { event: 'webhook.field', inbox_id: row.id, field: e.field, name: e.event },
      `webhook ${e.field}${e.event ? ` ${e.event}` : ''} stored`,
    );
  }
  return fresh;
}

/** One record per content of a non-message field, whichever delivery carries it (SPEC §3a). */
function contentHash(field: string, value: unknown, entryTime: number | undefined): string {
  // The entry time is part of the content: the same update sent again later is a new event.
  return createHash('sha256')
    .update(`${field}\n${entryTime ?? ''}\n`)
    .update(JSON.stringify(value))
    .digest('hex');
}
