// smb_message_echoes (SPEC §3a, coexistence): a message the business sent from the WhatsApp Business
// app. It is stored as an outbound message with source `business_app` and counts as the business's
// answer (the turn is answered, `open` becomes `pending`), exactly as a reply the daemon sent; the
// daemon never sends it. An echoed edit or revoke changes the business's earlier message instead.
import type { Config } from '../config/schema.js';
import { applyConversationEvent } from '../conversations/engine.js';
import { AppError } from '../lib/app-error.js';
import type { IdSource } from '../lib/ids.js';
import type { ContactRow } from '../store/contacts-repo.js';
import { conversationsRepo } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import { messagesRepo } from '../store/messages-repo.js';
import type { InboundMessage, MessageCore } from '../webhook/payload.js';
import { type ContactContext, resolveContact } from './contacts.js';
import { ItemError } from './delivery-errors.js';
import { contextWamid, messageText, revisionTarget } from './inbound-fields.js';
import { applyRevisions } from './revisions.js';

export const BUSINESS_APP = 'business_app';

export interface EchoContext extends ContactContext {
  config: Config;
  ids: IdSource;
}

/** Stores one echo and its effect; false when its wamid was already stored. */
export async function storeEcho(
  trx: Db,
  echo: { pnid: string; msg: Partial<InboundMessage> & MessageCore & { id: string }; raw: unknown },
  ctx: EchoContext,
): Promise<boolean> {
  const { msg } = echo;
  if (await messagesRepo.hasWamid(trx, msg.id)) return false;
  if (!msg.to && !msg.to_user_id) {
    throw new ItemError('unknown_recipient', 'the echo has neither "to" nor "to_user_id"');
  }
  const contact = await resolveContact(trx, { wa_id: msg.to, user_id: msg.to_user_id }, ctx);
  const target = revisionTarget(msg);
  const original = target ? await messagesRepo.findByWamid(trx, target) : undefined;
  const conv = original ? undefined : await conversationsRepo.findCurrent(trx, echo.pnid, contact.id);
  const inserted = await messagesRepo.insertIfNew(trx, {
    id: ctx.ids.next(),
    wamid: msg.id,
    conversation_id: original ? original.conversation_id : (conv?.id ?? null),
    contact_id: contact.id,
    phone_number_id: echo.pnid,
    direction: 'outbound',
    type: msg.type,
    text: messageText(msg),
    status: 'sent',
    error_code: null,
    error_title: null,
    context_wamid: contextWamid(msg),
    timestamp: msg.timestamp,
    created_at: ctx.now,
    payload: JSON.stringify(echo.raw),
    source: BUSINESS_APP,
  });
  if (!inserted) return false;
  if (target) {
    await applyRevisions(trx, target);
    return true;
  }
  await applyRevisions(trx, msg.id);
  // The business answered: the same event as a reply the daemon sent (closed conversations stay so).
  if (conv && conv.closed_at === null) {
    try {
      await applyConversationEvent(
        trx,
        {
          conversation: conv,
          contact,
          phone_number_id: echo.pnid,
          event: {
            type: 'business_message_sent',
            at: msg.timestamp,
            source: BUSINESS_APP,
            actor: BUSINESS_APP,
          },
        },
        { ids: ctx.ids, now: ctx.now, config: ctx.config },
      );
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'invalid_state')) throw err;
    }
  }
  return true;
}

/**
 * A Business-app reply can be delivered before the customer message it answers (Meta's deliveries
 * are concurrent). When that message then opens the conversation, the earlier-delivered, later-sent
 * echoes join it and answer the turn, as they would have in order.
 */
export async function adoptLaterEchoes(
  trx: Db,
  input: { conversation_id: string; contact: ContactRow; phone_number_id: string; at: number },
  ctx: { ids: IdSource; now: number; config: Config },
): Promise<void> {
  const echoes = await messagesRepo.unattachedEchoesSince(
    trx,
    input.contact.id,
    input.phone_number_id,
    input.at,
  );
  const last = echoes[echoes.length - 1];
  if (!last) return;
  await messagesRepo.attachToConversation(
    trx,
    echoes.map((e) => e.id),
    input.conversation_id,
  );
  const conv = await conversationsRepo.get(trx, input.conversation_id);
  if (!conv || conv.closed_at !== null) return;
  try {
    await applyConversationEvent(
      trx,
      {
        conversation: conv,
        contact: input.contact,
        phone_number_id: input.phone_number_id,
        event: {
          type: 'business_message_sent',
          at: last.timestamp,
          source: BUSINESS_APP,
          actor: BUSINESS_APP,
        },
      },
      ctx,
    );
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'invalid_state')) throw err;
  }
}
