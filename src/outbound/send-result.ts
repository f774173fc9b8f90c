// Records the transport's answer to one send (SPEC §5) in one transaction: the outbox row, the
// outbound message and its early statuses, and the event (`message.sent` / `message.failed`). What
// the answer means elsewhere lives with each domain, called from here: the campaign recipient
// (campaigns/recipient-events.ts), the follow-up (scheduler/follow-up-outcomes.ts), the conversation
// (conversations/send-outcomes.ts) and a permanent failure's answer (outbound/permanent-failure.ts).
// Rollups follow from the events (insights/insight-rollups.ts).
import {
  campaignSendAccepted,
  campaignSendFailed,
  lockCampaignOfSend,
} from '../campaigns/recipient-events.js';
import type { Config } from '../config/schema.js';
import { businessMessageAccepted } from '../conversations/send-outcomes.js';
import { recordEvent } from '../events/record-event.js';
import { applyPendingStatuses } from '../inbox/statuses.js';
import type { IdSource } from '../lib/ids.js';
import { followUpAccepted, followUpFailed, planAfterFollowUp } from '../scheduler/follow-up-outcomes.js';
import type { Db } from '../store/db.js';
import { messagesRepo } from '../store/messages-repo.js';
import { type OutboxRow, outboxRepo } from '../store/outbox-repo.js';
import { statusEventsRepo } from '../store/status-events-repo.js';
import { backoffFromConfig, planRetry } from './backoff.js';
import { answerPermanentFailure } from './permanent-failure.js';
import type { OutboundMessage, SendFailed, SendResult } from './transports/transport.js';

export interface ResultContext {
  ids: IdSource;
  now: number;
  config: Config;
  /** A uniform number in [0, 1) for the retry jitter. */
  unit: () => number;
}

export type RecordedAnswer =
  | { outcome: 'sent'; follow_up: boolean }
  | { outcome: 'auth' }
  | { outcome: 'retry'; retry_at: number }
  | { outcome: 'dead' }
  | { outcome: 'failed'; replanned: { follow_up_id: string; outbox_id: string } | null };

export async function recordSendResult(
  trx: Db,
  row: OutboxRow,
  result: SendResult,
  ctx: ResultContext,
): Promise<RecordedAnswer> {
  // The wamid's lock before the campaign's: a status of this wamid takes them in that order too.
  if (result.outcome === 'accepted' && result.wamid) await statusEventsRepo.lockWamid(trx, result.wamid);
  await lockCampaignOfSend(trx, row);
  if (result.outcome === 'accepted') return recordAccepted(trx, row, result.wamid, ctx);
  return recordFailure(trx, row, result, ctx);
}

async function recordAccepted(
  trx: Db,
  row: OutboxRow,
  wamid: string | null,
  ctx: ResultContext,
): Promise<RecordedAnswer> {
  const now = ctx.now;
  await outboxRepo.markSent(trx, row, wamid, now);
  await campaignSendAccepted(trx, row, wamid, ctx);
  const message = JSON.parse(row.payload) as OutboundMessage;
  const content = message.kind === 'message' ? describeContent(message) : null;
  if (wamid && message.kind === 'message' && content) {
    await messagesRepo.insertIfNew(trx, {
      id: ctx.ids.next(),
      wamid,
      conversation_id: row.conversation_id,
      contact_id: row.contact_id,
      phone_number_id: row.phone_number_id,
      direction: 'outbound',
      ...content,
      status: 'sent',
      error_code: null,
      error_title: null,
      context_wamid: message.reply_to ?? null,
      timestamp: now,
      created_at: now,
      payload: row.payload,
    });
  }
  await recordEvent(
    trx,
    {
      type: 'message.sent',
      conversation_id: row.conversation_id,
      data: {
        wamid,
        outbox_id: row.id,
        kind: row.kind,
        phone_number_id: row.phone_number_id,
        to: row.to,
        type: content?.type ?? null,
        text: content?.text ?? null,
        follow_up_id: row.follow_up_id,
        campaign_recipient_id: row.campaign_recipient_id,
      },
    },
    ctx,
  );
  // Meta's statuses can arrive before the send call returns; they were kept for this moment.
  if (wamid && message.kind === 'message') await applyPendingStatuses(trx, wamid, ctx);
  const followUp = await followUpAccepted(trx, row.follow_up_id, wamid, ctx);
  await businessMessageAccepted(trx, row.conversation_id, row.kind, ctx);
  if (followUp) await planAfterFollowUp(trx, followUp, ctx);
  return { outcome: 'sent', follow_up: followUp !== undefined };
}

/**
 * The answer reduced to what must never be lost: the outbox row's own state (sent / queued for a
 * retry / failed or dead) and its event. Used when a step of recordSendResult threw (a constraint, a
 * row it could not read) and rolled everything back: without this the row would stay `sending` and be
 * sent again at the next start (SPEC §9a). The domain reactions that threw are skipped and logged.
 */
export async function recordSendOutcomeOnly(
  trx: Db,
  row: OutboxRow,
  result: SendResult,
  ctx: ResultContext,
): Promise<RecordedAnswer> {
  if (result.outcome === 'accepted') {
    await outboxRepo.markSent(trx, row, result.wamid, ctx.now);
    await recordEvent(
      trx,
      {
        type: 'message.sent',
        conversation_id: row.conversation_id,
        data: {
          wamid: result.wamid,
          outbox_id: row.id,
          kind: row.kind,
          phone_number_id: row.phone_number_id,
          to: row.to,
          type: null,
          text: null,
          follow_up_id: row.follow_up_id,
          campaign_recipient_id: row.campaign_recipient_id,
        },
      },
      ctx,
    );
    return { outcome: 'sent', follow_up: false };
  }
  return recordFailure(trx, row, result, ctx, { reactions: false });
}

async function recordFailure(
  trx: Db,
  row: OutboxRow,
  failure: SendFailed,
  ctx: ResultContext,
  opts: { reactions: boolean } = { reactions: true },
): Promise<RecordedAnswer> {
  const now = ctx.now;
  const error = { code: failure.code, title: failure.title };
  if (failure.kind === 'auth') {
    // Not the message's fault: it stays queued (the attempt is not counted) until credentials change.
    await outboxRepo.requeue(trx, row.id, now, now, error, { refundAttempt: true });
    return { outcome: 'auth' };
  }
  if (failure.kind === 'retryable') {
    const plan = planRetry(row.attempts, now, backoffFromConfig(ctx.config.outbound), ctx.unit);
    if (plan.retry) {
      await outboxRepo.requeue(trx, row.id, plan.retryAt, now, error);
      return { outcome: 'retry', retry_at: plan.retryAt };
    }
    await outboxRepo.markFinal(trx, row, 'dead', error, now);
    await recordFailed(trx, row, failure, 'dead', ctx);
    if (!opts.reactions) return { outcome: 'dead' };
    await campaignSendFailed(trx, row, error, now);
    await followUpFailed(trx, row.follow_up_id, `dead after ${row.attempts} attempts: ${failure.title}`, now);
    return { outcome: 'dead' };
  }
  await outboxRepo.markFinal(trx, row, 'failed', error, now);
  await recordFailed(trx, row, failure, 'permanent', ctx);
  if (!opts.reactions) return { outcome: 'failed', replanned: null };
  await campaignSendFailed(trx, row, error, now);
  const answer = await answerPermanentFailure(
    trx,
    {
      outbox: row,
      conversation_id: row.conversation_id,
      code: failure.code,
      title: failure.title,
      via: 'send',
    },
    ctx,
  );
  return { outcome: 'failed', replanned: answer.replanned };
}

function recordFailed(
  trx: Db,
  row: OutboxRow,
  failure: SendFailed,
  reason: 'permanent' | 'dead',
  ctx: ResultContext,
) {
  return recordEvent(
    trx,
    {
      type: 'message.failed',
      conversation_id: row.conversation_id,
      data: {
        wamid: null,
        outbox_id: row.id,
        kind: row.kind,
        reason,
        attempts: row.attempts,
        error_code: failure.code,
        error_title: failure.title,
      },
    },
    ctx,
  );
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
