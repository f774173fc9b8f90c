// One customer message (not an echo) → its contact, conversation, message row, revisions, adopted
// echoes, media rows and the message.received event, inside the caller's transaction.
import { recordEvent } from '../events/record-event.js';
import { recordInboundMedia } from '../media/inbound-media.js';
import type { Db } from '../store/db.js';
import { findCurrentForInbound } from '../store/inbound-hints.js';
import { messagesRepo } from '../store/messages-repo.js';
import { resolveContact, resolveGroupContact } from './contacts.js';
import type { AddError, PendingMessage } from './delivery-items.js';
import { adoptLaterEchoes } from './echoes.js';
import { followIdentityChange, type IdentityContext, idsFromSystemBody } from './identity-changes.js';
import {
  contextWamid,
  messageError,
  messageRole,
  messageText,
  replyId,
  revisionTarget,
} from './inbound-fields.js';
import { onInboundMessage } from './on-inbound-message.js';
import type { ProcessContext } from './process-context.js';
import { applyRevisions } from './revisions.js';

/**
 * Stores one inbound message and its effects; false when its wamid was already stored. Insert first
 * (SPEC §10): the message row goes in before any effect, and the unique wamid decides: only the
 * processor whose insert happened applies the effects (two instances, or Meta's redelivery beside
 * the original, never both). The contact is resolved before (the row names it; resolving is an
 * idempotent upsert by the message's own ids); the conversation is set on the row once known.
 */
export async function storeInboundMessage(
  trx: Db,
  m: PendingMessage,
  ctx: ProcessContext,
  addError: AddError,
): Promise<boolean> {
  const { msg } = m;
  // A shortcut for the common redelivery only (no contact work, no warnings twice): the insert decides.
  if (await messagesRepo.hasWamid(trx, msg.id)) return false;
  const cctx: IdentityContext = {
    ids: ctx.ids,
    now: ctx.now,
    logger: ctx.logger,
    warn: (code, message) => addError(m.loc, code, message),
  };
  const contact = await senderOf(trx, m, cctx);
  const error = messageError(msg, m.valueError);
  const target = revisionTarget(msg);
  // A one-to-one message that revises nothing goes to the customer's current conversation (or one
  // the engine starts): read before the insert (locked on PostgreSQL, as onInboundMessage would), so
  // the row is written with its conversation and needs no update when the engine keeps it, as it
  // does for every message on an open conversation. A redelivery only costs the read. The read also
  // says which of the later lookups would find nothing (store/inbound-hints.ts): those are skipped.
  const found =
    msg.group_id || target
      ? undefined
      : await findCurrentForInbound(trx, {
          phone_number_id: m.pnid,
          contact_id: contact.id,
          wamid: msg.id,
          wa_id: contact.wa_id,
          at: msg.timestamp,
          since: msg.timestamp - ctx.config.campaigns.attribution_window,
        });
  const current = found ? (found.conversation ?? null) : undefined;
  const none = found?.none;
  const inserted = await messagesRepo.insertIfNew(trx, {
    id: ctx.ids.next(),
    wamid: msg.id,
    conversation_id: current?.id ?? null,
    contact_id: contact.id,
    phone_number_id: m.pnid,
    direction: 'inbound',
    type: msg.type,
    text: messageText(msg),
    status: 'received',
    error_code: error.code,
    error_title: error.title,
    context_wamid: contextWamid(msg),
    timestamp: msg.timestamp,
    created_at: ctx.now,
    payload: JSON.stringify(m.raw),
  });
  if (!inserted) return false;
  // A group's messages go to the group's conversation (its own contact); the sender stays on the row.
  const party = msg.group_id ? await resolveGroupContact(trx, msg.group_id, cctx) : contact;
  const original = target ? await messagesRepo.findByWamid(trx, target) : undefined;
  const conversationId =
    original && original.conversation_id !== null
      ? original.conversation_id
      : (
          await onInboundMessage(
            trx,
            {
              phone_number_id: m.pnid,
              contact: party,
              type: msg.type,
              timestamp: msg.timestamp,
              text: messageText(msg),
              referral: msg.referral ?? null,
              reply_id: replyId(msg),
            },
            { ids: ctx.ids, now: ctx.now, config: ctx.config },
            current,
            none,
          )
        ).conversation_id;
  if (conversationId !== null && conversationId !== current?.id)
    await messagesRepo.setConversation(trx, msg.id, conversationId);
  // An edit or revoke changes its original; an original that arrives after them catches up.
  if (!none?.revisions) await applyRevisions(trx, target ?? msg.id);
  if (conversationId !== null && !msg.group_id && messageRole(msg.type) === 'customer' && !none?.echoes) {
    await adoptLaterEchoes(
      trx,
      { conversation_id: conversationId, contact, phone_number_id: m.pnid, at: msg.timestamp },
      { ids: ctx.ids, now: ctx.now, config: ctx.config },
    );
  }
  await recordInboundMedia(
    trx,
    msg,
    { phone_number_id: m.pnid, conversation_id: conversationId },
    { ids: ctx.ids, now: ctx.now },
  );
  await recordEvent(
    trx,
    {
      type: 'message.received',
      conversation_id: conversationId,
      data: {
        wamid: msg.id,
        phone_number_id: m.pnid,
        wa_id: contact.wa_id,
        contact_id: contact.id,
        type: msg.type,
        text: messageText(msg),
        timestamp: new Date(msg.timestamp).toISOString(),
        ...(target ? { revises: target } : {}),
        ...(msg.group_id ? { group_id: msg.group_id } : {}),
      },
    },
    ctx,
  );
  return true;
}

/**
 * The contact a message belongs to: its `from` / `from_user_id`, else the only sender in
 * `value.contacts`; an identity notice links the old and new ids to one contact (identity-changes.ts).
 */
async function senderOf(trx: Db, m: PendingMessage, cctx: IdentityContext) {
  const { msg } = m;
  const named = Boolean(msg.from || msg.from_user_id);
  const sender = named
    ? m.senders.find(
        (s) => (msg.from && s.wa_id === msg.from) || (msg.from_user_id && s.user_id === msg.from_user_id),
      )
    : m.senders.length === 1
      ? m.senders[0]
      : undefined;
  const wa_id = named ? msg.from : sender?.wa_id;
  const user_id = named ? msg.from_user_id : sender?.user_id;
  const system = msg.type === 'system' ? msg.system : undefined;
  const identityNotice = system?.type === 'user_changed_number' || system?.type === 'user_changed_user_id';
  const resolved =
    wa_id || user_id || !identityNotice
      ? await resolveContact(
          trx,
          { wa_id, user_id, profile_name: sender?.profile?.name, username: sender?.profile?.username },
          cctx,
        )
      : undefined;
  if (!system || !identityNotice) return resolved as Awaited<ReturnType<typeof resolveContact>>;
  const byBody = system.type === 'user_changed_user_id' ? idsFromSystemBody(system.body) : {};
  return followIdentityChange(
    trx,
    {
      ...(resolved ? { sender: resolved } : {}),
      new_wa_id: system.type === 'user_changed_number' ? system.wa_id : undefined,
      previous_user_id: system.previous_user_id ?? byBody.previous,
      current_user_id: system.user_id ?? byBody.current,
      source: 'system_message',
      at: msg.timestamp,
    },
    cctx,
  );
}
