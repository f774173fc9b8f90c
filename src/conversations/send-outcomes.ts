// What a send's answer means for its conversation (SPEC §4): an accepted business message moves the
// state machine (`business_message_sent`: answered turn, pending, a new silence). (A permanent failure
// is answered by outbound/permanent-failure.ts.) Called by the outbound side in the transaction that
// records the answer; a refused event (the conversation is closed) changes nothing.
import type { Config } from '../config/schema.js';
import { AppError } from '../lib/app-error.js';
import type { IdSource } from '../lib/ids.js';
import { contactsRepo } from '../store/contacts-repo.js';
import { conversationsRepo } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import type { OutboxKind } from '../store/tables.js';
import { applyConversationEvent } from './engine.js';
import type { BusinessMessageSource, ConversationEvent } from './state-machine.js';

const SOURCE: Record<OutboxKind, BusinessMessageSource> = {
  reply: 'auto_reply',
  follow_up: 'follow_up',
  campaign: 'campaign',
  manual: 'agent',
};

export interface SendOutcomeContext {
  ids: IdSource;
  now: number;
  config: Config;
}

/** A business message of `kind` was accepted by the API. False when the engine refused it. */
export function businessMessageAccepted(
  trx: Db,
  conversationId: string | null,
  kind: OutboxKind,
  ctx: SendOutcomeContext,
): Promise<boolean> {
  return apply(
    trx,
    conversationId,
    { type: 'business_message_sent', at: ctx.now, source: SOURCE[kind], actor: kind },
    ctx,
  );
}

async function apply(
  trx: Db,
  conversationId: string | null,
  event: ConversationEvent,
  ctx: SendOutcomeContext,
): Promise<boolean> {
  const conv = conversationId ? await conversationsRepo.get(trx, conversationId) : undefined;
  const contact = conv ? await contactsRepo.get(trx, conv.contact_id) : undefined;
  if (!conv || !contact) return false;
  try {
    await applyConversationEvent(
      trx,
      { conversation: conv, contact, phone_number_id: conv.phone_number_id, event },
      ctx,
    );
    return true;
  } catch (err) {
    // A refused event (e.g. the conversation is closed) changes nothing; the send result stands.
    if (err instanceof AppError && err.code === 'invalid_state') return false;
    throw err;
  }
}
