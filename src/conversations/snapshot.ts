// The one mapping from a stored conversation to the API's MessagingSnapshot (SPEC §8: the seed's
// fields plus who the customer is, the class, the window and why it was escalated or closed), and
// from a stored message to the message shape of the conversation detail. Every route returning
// either uses these.
import { z } from 'zod';
import { toIso } from '../lib/clock.js';
import type { ConversationView } from '../store/conversations-repo.js';
import type { MessageRow } from '../store/messages-repo.js';
import { parseHistory } from './edit-history.js';

const iso = z.string().describe('ISO-8601 UTC');

export const messagingSnapshotSchema = z.object({
  extension_slug: z.literal('native-whatsapp'),
  platform: z.literal('whatsapp'),
  conversation_id: z.string(),
  queue_state: z.enum(['open', 'pending', 'escalated', 'closed']),
  assigned_route: z.enum(['ai', 'hybrid', 'human']),
  reply_rate: z
    .number()
    .nullable()
    .describe('answered customer turns / customer turns; null before the first customer turn'),
  queue_pressure: z
    .number()
    .int()
    .describe('unanswered customer messages + outbound messages not yet accepted by the API'),
  last_message_at: iso,
  updated_at: iso,
  wa_id: z.string().nullable().describe('the customer phone number; null for a BSUID-only customer'),
  user_id: z.string().nullable().describe('the business-scoped user id (BSUID), when Meta sent one'),
  contact_name: z.string().nullable(),
  phone_number_id: z.string(),
  agent_uuid: z.string().nullable(),
  conversation_class: z.string(),
  priority: z.enum(['low', 'normal', 'high']),
  window_expires_at: iso.nullable(),
  escalation_reason: z.string().nullable(),
  closed_reason: z.string().nullable(),
  campaign_id: z.string().nullable(),
  opened_at: iso,
  closed_at: iso.nullable(),
  group_id: z
    .string()
    .nullable()
    .describe(
      'set when this is a WhatsApp group conversation: never answered automatically, not in insights',
    ),
});

export type MessagingSnapshot = z.output<typeof messagingSnapshotSchema>;

export const conversationMessageSchema = z.object({
  wamid: z.string(),
  direction: z.enum(['inbound', 'outbound']),
  type: z.string(),
  text: z.string().nullable().describe('body, caption, button or list title, reaction emoji'),
  status: z.string().nullable(),
  error_code: z.number().int().nullable(),
  error_title: z.string().nullable(),
  context_wamid: z.string().nullable().describe('the message this one replies or reacts to'),
  timestamp: iso,
  payload: z.unknown().describe('the message object as Meta sent it or as we sent it'),
  source: z
    .string()
    .nullable()
    .describe('`business_app`: sent from the WhatsApp Business app (an echo), never by the daemon'),
  reactions: z
    .array(
      z.object({
        emoji: z.string(),
        direction: z.enum(['inbound', 'outbound']).describe('inbound: the customer reacted'),
        at: iso,
      }),
    )
    .describe('current reactions to this message (a removed reaction is not listed)'),
  edited_at: iso.nullable().describe('when the sender last edited it; `text` is the edited text'),
  edit_history: z
    .array(z.object({ text: z.string().nullable(), replaced_at: iso }))
    .describe('earlier texts, oldest first'),
  deleted_at: iso.nullable().describe('when the sender revoked (deleted) it'),
});

export type ConversationMessage = z.output<typeof conversationMessageSchema>;

/**
 * reply_rate = answered turns / turns. A conversation with no customer turn yet has no rate: null
 * (as the insights' reply_rate, SPEC §8), rather than a 0 or 1 that would read as a judgement.
 */
export function replyRate(turnsAnswered: number, turnsTotal: number): number | null {
  if (turnsTotal <= 0) return null;
  return Math.min(1, turnsAnswered / turnsTotal);
}

export function toSnapshot(row: ConversationView): MessagingSnapshot {
  return {
    extension_slug: 'native-whatsapp',
    platform: 'whatsapp',
    conversation_id: row.id,
    queue_state: row.queue_state,
    assigned_route: row.assigned_route,
    reply_rate: replyRate(row.turns_answered, row.turns_total),
    queue_pressure: row.unanswered_count + row.pending_outbound,
    last_message_at: toIso(row.last_message_at),
    updated_at: toIso(row.updated_at),
    wa_id: row.wa_id,
    user_id: row.user_id,
    contact_name: row.profile_name ?? row.username,
    phone_number_id: row.phone_number_id,
    agent_uuid: row.agent_uuid,
    conversation_class: row.conversation_class,
    priority: row.priority,
    window_expires_at: row.window_expires_at === null ? null : toIso(row.window_expires_at),
    escalation_reason: row.escalation_reason,
    closed_reason: row.closed_reason,
    campaign_id: row.campaign_id,
    opened_at: toIso(row.opened_at),
    closed_at: row.closed_at === null ? null : toIso(row.closed_at),
    group_id: row.group_id ?? null,
  };
}

export type MessageReaction = ConversationMessage['reactions'][number];

export function toConversationMessage(
  row: MessageRow,
  reactions: MessageReaction[] = [],
): ConversationMessage {
  return {
    wamid: row.wamid,
    direction: row.direction,
    type: row.type,
    text: row.text,
    status: row.status,
    error_code: row.error_code,
    error_title: row.error_title,
    context_wamid: row.context_wamid,
    timestamp: toIso(row.timestamp),
    payload: parsePayload(row.payload),
    source: row.source,
    reactions,
    edited_at: row.edited_at === null ? null : toIso(row.edited_at),
    edit_history: parseHistory(row.edit_history).map((h) => ({
      text: h.text,
      replaced_at: toIso(h.replaced_at),
    })),
    deleted_at: row.deleted_at === null ? null : toIso(row.deleted_at),
  };
}

/**
 * The reactions standing on each message (SPEC §3a): per target and reacting party, the latest
 * reaction wins, and an empty emoji removes it. Pure: `reactions` are reaction messages in any order.
 */
export function currentReactions(reactions: MessageRow[]): Map<string, MessageReaction[]> {
  const latest = new Map<string, MessageRow>();
  for (const r of reactions) {
    if (!r.context_wamid) continue;
    const key = `${r.context_wamid}\u0000${r.direction}\u0000${r.contact_id ?? ''}`;
    const seen = latest.get(key);
    if (!seen || r.timestamp > seen.timestamp || (r.timestamp === seen.timestamp && r.id > seen.id)) {
      latest.set(key, r);
    }
  }
  const out = new Map<string, MessageReaction[]>();
  for (const r of latest.values()) {
    if (!r.text || !r.context_wamid) continue;
    const list = out.get(r.context_wamid) ?? [];
    list.push({ emoji: r.text, direction: r.direction, at: toIso(r.timestamp) });
    out.set(r.context_wamid, list);
  }
  return out;
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
