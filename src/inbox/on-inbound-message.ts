// The one place an inbound message changes its conversation (SPEC §4 "customer message"): it lands in
// the customer's conversation on that business number, reopening a recently closed one or starting a
// new one. The conversation engine takes this event over for states, routing and escalation.
import type { IdSource } from '../lib/ids.js';
import { agentsRepo } from '../store/agents-repo.js';
import type { ContactRow } from '../store/contacts-repo.js';
import { type ConversationRow, conversationsRepo } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import {
  afterCustomerMessage,
  afterPassiveMessage,
  type ConversationFigures,
  chooseConversation,
  newConversationFigures,
} from './conversation-update.js';
import { messageRole } from './inbound-fields.js';

export interface InboundMessageEvent {
  phone_number_id: string;
  contact: ContactRow;
  type: string;
  /** Meta's timestamp of the message, ms. */
  timestamp: number;
}

export interface InboundOutcome {
  /** Null only for a passive message (reaction, system notice) of a customer with no conversation. */
  conversation_id: string | null;
  effect: 'current' | 'reopened' | 'new' | 'attached' | 'none';
}

export async function onInboundMessage(
  trx: Db,
  event: InboundMessageEvent,
  ctx: { ids: IdSource; now: number; reopenWithin: number },
): Promise<InboundOutcome> {
  const { phone_number_id: pnid, contact, timestamp: at } = event;
  const latest = await conversationsRepo.findCurrent(trx, pnid, contact.id);
  const active = latest?.closed_at === null ? latest : undefined;

  if (messageRole(event.type) === 'passive') {
    const target = latest;
    if (!target) return { conversation_id: null, effect: 'none' };
    await save(trx, target, afterPassiveMessage(figures(target), at), ctx.now);
    return { conversation_id: target.id, effect: 'attached' };
  }

  if (active) {
    await save(trx, active, afterCustomerMessage(figures(active), at), ctx.now);
    return { conversation_id: active.id, effect: 'current' };
  }
  if (latest && chooseConversation(latest, at, ctx.reopenWithin) === 'reopen') {
    await save(trx, latest, afterCustomerMessage(figures(latest), at), ctx.now, {
      closed_at: null,
      closed_reason: null,
    });
    return { conversation_id: latest.id, effect: 'reopened' };
  }
  const id = ctx.ids.next();
  // The agent attached to the business number owns the conversation from its start.
  const owner = await agentsRepo.findByPhoneNumberId(trx, pnid);
  await conversationsRepo.insert(trx, {
    id,
    phone_number_id: pnid,
    contact_id: contact.id,
    agent_id: owner?.id ?? null,
    escalation_reason: null,
    closed_reason: null,
    campaign_id: null,
    intent: null,
    sentiment: null,
    opened_at: at,
    updated_at: ctx.now,
    closed_at: null,
    ...newConversationFigures(at),
  });
  return { conversation_id: id, effect: 'new' };
}

function figures(c: ConversationRow): ConversationFigures {
  return {
    queue_state: c.queue_state,
    last_message_at: c.last_message_at,
    last_customer_message_at: c.last_customer_message_at,
    last_business_message_at: c.last_business_message_at,
    window_expires_at: c.window_expires_at,
    unanswered_count: c.unanswered_count,
    turns_total: c.turns_total,
  };
}

async function save(
  trx: Db,
  before: ConversationRow,
  after: ConversationFigures,
  now: number,
  extra: { closed_at?: null; closed_reason?: null } = {},
): Promise<void> {
  const patch: Record<string, unknown> = { ...extra };
  const old = figures(before);
  for (const [k, v] of Object.entries(after)) {
    if (old[k as keyof ConversationFigures] !== v) patch[k] = v;
  }
  if (Object.keys(patch).length === 0) return;
  await conversationsRepo.update(trx, before.id, { ...patch, updated_at: now });
}
