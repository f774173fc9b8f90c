// Putting a message into the outbox (SPEC §5): validated, stored as `queued` in the caller's
// transaction, before any network call. The sender (outbound/sender.ts) takes it from there.
// Priorities: replies and manual sends by their context.priority, follow-ups below them, campaign
// sends below everything (replies before follow-ups before campaign sends).
import type { IdSource } from '../lib/ids.js';
import type { Db } from '../store/db.js';
import { type OutboxRow, outboxRepo } from '../store/outbox-repo.js';
import type { OutboxKind } from '../store/tables.js';
import type { QueuePriority } from './pacing-queue.js';
import {
  type OutboundContent,
  parseOutboundMessage,
  type Recipient,
  recipientKey,
} from './transports/transport.js';

export type ContextPriority = 'high' | 'normal' | 'low';

const CONTEXT_RANK: Record<ContextPriority, number> = { high: 3, normal: 2, low: 1 };
const QUEUE_PRIORITY: QueuePriority[] = ['bulk', 'low', 'normal', 'high'];

/** The stored priority of a row: see the module comment. */
export function outboxPriority(kind: OutboxKind, priority: ContextPriority = 'normal'): number {
  if (kind === 'campaign') return 0;
  if (kind === 'follow_up') return 1;
  return CONTEXT_RANK[priority];
}

export function queuePriority(stored: number): QueuePriority {
  return QUEUE_PRIORITY[Math.max(0, Math.min(3, Math.round(stored)))] as QueuePriority;
}

export interface EnqueueInput {
  kind: OutboxKind;
  phone_number_id: string;
  to: Recipient;
  content: OutboundContent;
  conversation_id: string | null;
  contact_id: string | null;
  priority?: ContextPriority;
  reply_to?: string;
  follow_up_id?: string | null;
  campaign_recipient_id?: string | null;
  /** Echoed by Meta on every status of the message (campaign sends name their campaign here). */
  biz_opaque_callback_data?: string;
  /** Not before this time (default now). */
  not_before?: number;
}

export async function enqueueOutbound(
  trx: Db,
  input: EnqueueInput,
  ctx: { ids: IdSource; now: number },
): Promise<OutboxRow> {
  const message = parseOutboundMessage({
    kind: 'message',
    phone_number_id: input.phone_number_id,
    to: input.to,
    content: input.content,
    ...(input.reply_to ? { reply_to: input.reply_to } : {}),
    ...(input.biz_opaque_callback_data ? { biz_opaque_callback_data: input.biz_opaque_callback_data } : {}),
  });
  const row: OutboxRow = {
    id: ctx.ids.next(),
    conversation_id: input.conversation_id,
    contact_id: input.contact_id,
    phone_number_id: input.phone_number_id,
    to: recipientKey(input.to),
    kind: input.kind,
    priority: outboxPriority(input.kind, input.priority),
    payload: JSON.stringify(message),
    state: 'queued',
    attempts: 0,
    next_attempt_at: input.not_before ?? ctx.now,
    lease_until: null,
    wamid: null,
    error_code: null,
    error_title: null,
    follow_up_id: input.follow_up_id ?? null,
    campaign_recipient_id: input.campaign_recipient_id ?? null,
    created_at: ctx.now,
    updated_at: ctx.now,
    sent_at: null,
  };
  await outboxRepo.insert(trx, row);
  return row;
}

/** The recipient of a contact: phone number when known, else the business-scoped user id. */
export function recipientOf(contact: { wa_id: string | null; user_id: string | null }): Recipient | null {
  if (contact.wa_id) return { wa_id: contact.wa_id };
  if (contact.user_id) return { user_id: contact.user_id };
  return null;
}
