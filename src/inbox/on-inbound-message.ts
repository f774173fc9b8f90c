// Where an inbound message meets its conversation (SPEC §4 "customer message"). A customer message
// goes to the conversation engine (conversations/engine.ts): state machine, classification on the
// first message, score, escalation, opt-out/opt-in, reopen or a new conversation, follow-up
// cancellation and responder jobs. A passive message (reaction, system notice) only moves the
// activity time of the customer's current conversation.
import { attributeReply } from '../campaigns/recipient-events.js';
import type { Config } from '../config/schema.js';
import type { ClassifyInput } from '../conversations/classify.js';
import { applyConversationEvent } from '../conversations/engine.js';
import { windowExpiresAt } from '../conversations/window.js';
import type { IdSource } from '../lib/ids.js';
import type { ContactRow } from '../store/contacts-repo.js';
import { type ConversationRow, conversationsRepo } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import type { FoundNone } from '../store/inbound-hints.js';
import { messageRole } from './inbound-fields.js';

export interface InboundMessageEvent {
  phone_number_id: string;
  contact: ContactRow;
  type: string;
  /** Meta's timestamp of the message, ms. */
  timestamp: number;
  /** Body, caption or button title; null when the message has none. */
  text?: string | null;
  /** Click-to-WhatsApp referral, when the message carried one. */
  referral?: ClassifyInput['referral'];
  /** The id of the button or list row the customer chose, when they chose one. */
  reply_id?: string | null;
}

export interface InboundOutcome {
  /** Null only for a passive message (reaction, system notice) of a customer with no conversation. */
  conversation_id: string | null;
  effect: 'current' | 'reopened' | 'new' | 'attached' | 'none';
  /** A responder job was written: the responder worker has work. */
  responder?: boolean;
}

/**
 * `current`: the customer's conversation as conversationsRepo.findCurrentForUpdate read it in this
 * transaction with nothing written to it since (null: none); left out, it is read here. `none`: what
 * that read found none of (store/inbound-hints.ts), for `current` and this event's time and contact.
 */
export async function onInboundMessage(
  trx: Db,
  event: InboundMessageEvent,
  ctx: { ids: IdSource; now: number; config: Config },
  current?: ConversationRow | null,
  none?: FoundNone,
): Promise<InboundOutcome> {
  const { phone_number_id: pnid, contact, timestamp: at } = event;
  // Locked on PostgreSQL (the writes below depend on it), and handed to the engine as current.
  const latest =
    current === undefined
      ? await conversationsRepo.findCurrentForUpdate(trx, pnid, contact.id)
      : (current ?? undefined);

  if (messageRole(event.type) === 'passive') {
    if (!latest) return { conversation_id: null, effect: 'none' };
    if (at > latest.last_message_at) {
      await conversationsRepo.update(trx, latest.id, { last_message_at: at, updated_at: ctx.now });
    }
    return { conversation_id: latest.id, effect: 'attached' };
  }

  // Delivered late: the business has answered since this message was written, so it was already part
  // of an answered turn. It keeps the window fresh but changes no state (no reopening, no cancelled
  // follow-ups, no new turn).
  const lastBusiness = latest?.last_business_message_at ?? null;
  if (latest && latest.closed_at === null && lastBusiness !== null && at <= lastBusiness) {
    const lastCustomer = Math.max(latest.last_customer_message_at ?? at, at);
    await conversationsRepo.update(trx, latest.id, {
      last_customer_message_at: lastCustomer,
      window_expires_at: windowExpiresAt({ last_customer_message_at: lastCustomer }),
      last_message_at: Math.max(latest.last_message_at, at),
      updated_at: ctx.now,
    });
    return { conversation_id: latest.id, effect: 'current' };
  }

  const outcome = await applyConversationEvent(
    trx,
    {
      conversation: latest ?? null,
      conversationIsCurrent: true,
      noPendingDrafts: latest !== undefined && none?.pendingDrafts === true,
      contact,
      phone_number_id: pnid,
      event: {
        type: 'customer_message',
        at,
        text: event.text ?? null,
        message_type: event.type,
        referral: event.referral ?? null,
        reply_id: event.reply_id ?? null,
      },
    },
    ctx,
  );
  // A reply to a campaign send within the attribution window (SPEC §7).
  await attributeReply(
    trx,
    {
      wa_id: contact.wa_id,
      conversation_id: outcome.conversation_id,
      at,
      now: ctx.now,
      window: ctx.config.campaigns.attribution_window,
    },
    ctx,
    {
      // The read was of `latest`; a conversation the engine started instead was not asked about.
      followUpSends: none?.followUpSends === true && outcome.conversation_id === latest?.id,
      campaignSends: none?.campaignSends === true,
    },
  );
  const reopened = outcome.result.transitions.some((t) => t.reason === 'reopened');
  return {
    conversation_id: outcome.conversation_id,
    effect: outcome.started_new ? 'new' : reopened ? 'reopened' : 'current',
    responder: outcome.wake.responder,
  };
}
