// The one answer to a permanent failure of an outbound message (SPEC §3a, §4, §5), whichever way it
// arrives: the Cloud API refusing the send call (outbound/sender.ts) or a `failed` status webhook for a
// message it had accepted (inbox/statuses.ts). 131047 (the customer service window closed) on a
// follow-up that was not a template re-plans it as its rule's template; anything else fails the
// follow-up, if it was one, and lets the escalation rule of §4 decide on the conversation.
import type { Config } from '../config/schema.js';
import { applyConversationEvent } from '../conversations/engine.js';
import { AppError } from '../lib/app-error.js';
import type { IdSource } from '../lib/ids.js';
import { replanAsTemplate } from '../scheduler/follow-up-plan.js';
import { contactsRepo } from '../store/contacts-repo.js';
import { conversationsRepo } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import { followUpsRepo } from '../store/follow-ups-repo.js';
import type { OutboxRow } from '../store/outbox-repo.js';
import { isWindowClosed } from './error-codes.js';
import { enqueueOutbound } from './outbox.js';
import type { OutboundMessage } from './transports/transport.js';

export interface PermanentFailure {
  /** The outbox row of the message (undefined for a message the daemon did not send). */
  outbox: OutboxRow | undefined;
  conversation_id: string | null;
  code: number | null;
  title: string | null;
  /** The send call's answer, or a `failed` status webhook. */
  via: 'send' | 'status';
}

export interface FailureOutcome {
  /** The follow-up was re-planned as its template: a new outbox row is due. */
  replanned: { follow_up_id: string; outbox_id: string } | null;
  /** The conversation was escalated (SPEC §4 "an outbound message failed permanently"). */
  escalated: boolean;
}

export async function answerPermanentFailure(
  trx: Db,
  failure: PermanentFailure,
  ctx: { ids: IdSource; now: number; config: Config },
): Promise<FailureOutcome> {
  const row = failure.outbox;
  if (row?.follow_up_id && isWindowClosed(failure.code)) {
    const replanned = await replanFollowUp(trx, row, ctx);
    if (replanned) return { replanned, escalated: false };
  }
  if (row?.follow_up_id) {
    await followUpsRepo.update(trx, row.follow_up_id, {
      state: 'failed',
      skip_reason: failure.title ?? `failed (${failure.code ?? 'no code'})`,
      lease_until: null,
      updated_at: ctx.now,
    });
  }
  return { replanned: null, escalated: await escalate(trx, failure, ctx) };
}

async function escalate(
  trx: Db,
  failure: PermanentFailure,
  ctx: { ids: IdSource; now: number; config: Config },
): Promise<boolean> {
  const conv = failure.conversation_id
    ? await conversationsRepo.get(trx, failure.conversation_id)
    : undefined;
  const contact = conv ? await contactsRepo.get(trx, conv.contact_id) : undefined;
  if (!conv || !contact) return false;
  try {
    const outcome = await applyConversationEvent(
      trx,
      {
        conversation: conv,
        contact,
        phone_number_id: conv.phone_number_id,
        event: { type: 'permanent_send_failure', error_code: failure.code },
      },
      ctx,
    );
    return outcome.result.transitions.some((t) => t.to === 'escalated');
  } catch (err) {
    // A refused event (e.g. the conversation is closed) changes nothing; the failure stands.
    if (!(err instanceof AppError && err.code === 'invalid_state')) throw err;
    return false;
  }
}

/** 131047 on a follow-up: its rule's template goes out instead (SPEC §5). Null when not possible. */
async function replanFollowUp(
  trx: Db,
  row: OutboxRow,
  ctx: { ids: IdSource; now: number; config: Config },
): Promise<FailureOutcome['replanned']> {
  const fu = row.follow_up_id ? await followUpsRepo.get(trx, row.follow_up_id) : undefined;
  const rule = fu ? ctx.config.follow_up_rules.find((r) => r.id === fu.rule_id) : undefined;
  if (!fu || !rule) return null;
  const message = JSON.parse(row.payload) as OutboundMessage;
  if (message.kind !== 'message' || message.content.type === 'template') return null;
  const plan = replanAsTemplate(rule, ctx.now, ctx.config.quiet_hours);
  if (plan.action !== 'send_template' || !rule.template) return null;
  const replacement = await enqueueOutbound(
    trx,
    {
      kind: 'follow_up',
      phone_number_id: row.phone_number_id,
      to: message.to,
      content: { type: 'template', template: rule.template },
      conversation_id: row.conversation_id,
      contact_id: row.contact_id,
      follow_up_id: fu.id,
      not_before: plan.due_at,
    },
    { ids: ctx.ids, now: ctx.now },
  );
  // A follow-up the API had accepted (the failure came by status webhook) is handed out again.
  await followUpsRepo.update(trx, fu.id, {
    state: 'claimed',
    outbox_id: replacement.id,
    sent_wamid: null,
    due_at: plan.due_at,
    updated_at: ctx.now,
  });
  return { follow_up_id: fu.id, outbox_id: replacement.id };
}
