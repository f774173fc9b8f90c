// Before the daemon answers a customer (an AI reply, a human's reply through the API or an approved
// draft), it marks the customer's last message read and shows a typing indicator (SPEC §12,
// `outbound.mark_read`, default on). The receipt is an outbox row like any send, ahead of the reply
// in the same paced queue; it belongs to no conversation, so it never counts as the business's answer.
import type { Config } from '../config/schema.js';
import type { IdSource } from '../lib/ids.js';
import type { Db } from '../store/db.js';
import { messagesRepo } from '../store/messages-repo.js';
import { outboxRepo } from '../store/outbox-repo.js';
import { type ContextPriority, outboxPriority } from './outbox.js';
import { parseOutboundMessage } from './transports/transport.js';

/**
 * Queues the read receipt (with typing indicator) for the conversation's latest customer message,
 * unless it is off, there is none, or that message was marked already. True when one was queued.
 */
export async function enqueueMarkRead(
  trx: Db,
  conv: { id: string; phone_number_id: string; contact_id: string },
  priority: ContextPriority,
  ctx: { ids: IdSource; now: number; config: Config },
): Promise<boolean> {
  if (!ctx.config.outbound.mark_read) return false;
  const last = await messagesRepo.lastInbound(trx, conv.id);
  if (!last || last.status === 'read') return false;
  const message = parseOutboundMessage({
    kind: 'mark_as_read',
    phone_number_id: conv.phone_number_id,
    message_id: last.wamid,
    typing_indicator: true,
  });
  await outboxRepo.insert(trx, {
    id: ctx.ids.next(),
    conversation_id: null,
    contact_id: conv.contact_id,
    phone_number_id: conv.phone_number_id,
    // Its own pacing key: the reply right behind it must not wait the per-recipient interval.
    to: `read:${last.wamid}`.slice(0, 300),
    kind: 'reply',
    priority: outboxPriority('reply', priority),
    payload: JSON.stringify(message),
    state: 'queued',
    attempts: 0,
    next_attempt_at: ctx.now,
    lease_until: null,
    wamid: null,
    error_code: null,
    error_title: null,
    follow_up_id: null,
    campaign_recipient_id: null,
    created_at: ctx.now,
    updated_at: ctx.now,
    sent_at: null,
  });
  // Marked once: a second answer to the same message sends no second receipt.
  await messagesRepo.setStatus(trx, last.wamid, { status: 'read' });
  return true;
}
