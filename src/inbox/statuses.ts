// Status events: stored once each, and applied to their message as soon as it exists. The outbound
// side calls applyPendingStatuses when it records a wamid the Cloud API returned, because Meta's
// `sent` (even `delivered`) can arrive before our send call has returned. One whose message never
// appears is purged after `retention.unmatched_statuses` (scheduler/housekeeping.ts).
import { campaignStatusChanged } from '../campaigns/recipient-events.js';
import type { Config } from '../config/schema.js';
import { recordEvent } from '../events/record-event.js';
import type { IdSource } from '../lib/ids.js';
import { answerPermanentFailure } from '../outbound/permanent-failure.js';
import { recordPricing } from '../pricing/pricing-events.js';
import type { Db } from '../store/db.js';
import { messagesRepo } from '../store/messages-repo.js';
import { outboxRepo } from '../store/outbox-repo.js';
import { statusEventsRepo } from '../store/status-events-repo.js';
import type { StatusObject } from '../webhook/payload.js';
import { nextStatus, statusRank } from './status-progress.js';

export async function recordStatus(
  trx: Db,
  status: StatusObject,
  raw: unknown,
  ctx: StatusContext & { inboxId: string | null },
): Promise<'new' | 'duplicate'> {
  await statusEventsRepo.lockWamid(trx, status.id);
  const error = status.errors?.[0];
  const inserted = await statusEventsRepo.insertIfNew(trx, {
    id: ctx.ids.next(),
    inbox_id: ctx.inboxId,
    wamid: status.id,
    status: status.status,
    timestamp: status.timestamp,
    recipient_id: status.recipient_id ?? null,
    recipient_user_id: status.recipient_user_id ?? null,
    error_code: error?.code ?? null,
    error_title: error?.title ?? error?.message ?? null,
    biz_opaque_callback_data: status.biz_opaque_callback_data ?? null,
    payload: JSON.stringify(raw),
    created_at: ctx.now,
    applied_at: null,
  });
  if (!inserted) return 'duplicate';
  await applyPendingStatuses(trx, status.id, ctx);
  return 'new';
}

export interface StatusContext {
  ids: IdSource;
  now: number;
  config: Config;
}

/**
 * Applies every not yet applied status event of `wamid` to its message, in time order, moving the
 * status only forward. Does nothing while no message with that wamid exists. Returns the message's
 * status afterwards (undefined when there is no message).
 */
export async function applyPendingStatuses(
  trx: Db,
  wamid: string,
  ctx: StatusContext,
): Promise<string | null | undefined> {
  const { now } = ctx;
  const message = await messagesRepo.findByWamid(trx, wamid);
  if (!message) return undefined;
  const events = await statusEventsRepo.listUnapplied(trx, wamid);
  if (events.length === 0) return message.status;
  events.sort((a, b) => a.timestamp - b.timestamp || statusRank(a.status) - statusRank(b.status));
  let status = message.status;
  let error: { code: number | null; title: string | null } | undefined;
  let pricing: unknown = null;
  for (const e of events) {
    const next = nextStatus(status, e.status);
    if (next === null) continue;
    status = next;
    if (next === 'failed') error = { code: e.error_code, title: e.error_title };
    pricing = pricingOf(e.payload) ?? pricing;
  }
  if (status !== message.status) {
    await messagesRepo.setStatus(trx, wamid, {
      status,
      ...(error ? { error_code: error.code, error_title: error.title } : {}),
    });
    // A campaign send moves its recipient along (delivered, read, failed).
    if (message.direction === 'outbound' && status)
      await campaignStatusChanged(trx, wamid, status, error, now);
    const data = {
      wamid,
      status,
      previous_status: message.status,
      error: error ? { code: error.code, title: error.title } : null,
      pricing,
    };
    await recordEvent(trx, { type: 'message.status', conversation_id: message.conversation_id, data }, ctx);
    if (message.direction === 'outbound' && status === 'failed') {
      await recordEvent(
        trx,
        {
          type: 'message.failed',
          conversation_id: message.conversation_id,
          data: {
            wamid,
            reason: 'status',
            error_code: error?.code ?? null,
            error_title: error?.title ?? null,
          },
        },
        ctx,
      );
    }
    // Failed after the API had accepted it: the same answer as a refused send (SPEC §3a).
    if (message.direction === 'outbound' && status === 'failed' && message.source === null) {
      await answerPermanentFailure(
        trx,
        {
          outbox: await outboxRepo.findByWamid(trx, wamid),
          conversation_id: message.conversation_id,
          code: error?.code ?? null,
          title: error?.title ?? null,
          via: 'status',
        },
        ctx,
      );
    }
  }
  // What Meta says the message costs (SPEC §14), from any of these statuses.
  if (message.direction === 'outbound') await recordPricing(trx, message, events);
  await statusEventsRepo.markApplied(
    trx,
    events.map((e) => e.id),
    now,
  );
  return status;
}

/** The `pricing` object Meta sent with a status (SPEC §11: `message.status` carries it). */
function pricingOf(payload: string): unknown {
  try {
    const p = JSON.parse(payload) as { pricing?: unknown };
    return p && typeof p === 'object' && p.pricing && typeof p.pricing === 'object' ? p.pricing : null;
  } catch {
    return null;
  }
}
