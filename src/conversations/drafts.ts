// Drafts a responder wrote for a human (route hybrid, SPEC §13): the human approves one (its text or
// an edit of it goes out as a manual reply through the outbox) or discards it; a draft nobody decided
// on is superseded when a human replied otherwise or the customer wrote again, so the dashboard never
// offers an answer to a question the customer no longer waits on.
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import { recordEvent } from '../events/record-event.js';
import { AppError } from '../lib/app-error.js';
import type { Clock } from '../lib/clock.js';
import { toIso } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import { enqueueMarkRead } from '../outbound/mark-read.js';
import { enqueueOutbound, recipientOf } from '../outbound/outbox.js';
import { contactsRepo } from '../store/contacts-repo.js';
import { conversationsRepo } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import { type DraftRow, draftsRepo } from '../store/drafts-repo.js';
import { withTransaction } from '../store/transactions.js';
import { type ConversationEvent, PASSIVE_MESSAGE_TYPES } from './state-machine.js';

const iso = z.string().describe('ISO-8601 UTC');

export const draftSchema = z.object({
  id: z.string(),
  conversation_id: z.string(),
  text: z.string().describe('what the responder drafted'),
  source: z.string().describe('which responder wrote it'),
  state: z
    .enum(['pending', 'approved', 'discarded', 'superseded'])
    .describe('pending until a human approves or discards it, or something else answers it (superseded)'),
  sent_text: z.string().nullable().describe('approved: the text that went out (the draft or its edit)'),
  outbox_id: z.string().nullable().describe('approved: the outbox row of the manual reply'),
  decided_by: z.string().nullable().describe('token:<id> of the human, or engine when superseded'),
  decided_reason: z.string().nullable().describe('superseded: customer_wrote_again or human_replied'),
  decided_at: iso.nullable(),
  created_at: iso,
  updated_at: iso,
});
export type Draft = z.infer<typeof draftSchema>;

export function toDraft(row: DraftRow): Draft {
  return {
    id: row.id,
    conversation_id: row.conversation_id,
    text: row.text,
    source: row.source,
    state: row.state,
    sent_text: row.sent_text,
    outbox_id: row.outbox_id,
    decided_by: row.decided_by,
    decided_reason: row.decided_reason,
    decided_at: row.decided_at === null ? null : toIso(row.decided_at),
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

/** Why an event makes a conversation's pending drafts stale, or null when it does not. */
export function supersedingReason(event: ConversationEvent): string | null {
  if (event.type === 'customer_message' && !PASSIVE_MESSAGE_TYPES.has(event.message_type)) {
    return 'customer_wrote_again';
  }
  // A human's own reply (execute reply_conversation, or another approved draft) answered already.
  if (event.type === 'business_message_sent' && event.source === 'agent') return 'human_replied';
  return null;
}

export interface DraftDeps {
  db: Db;
  clock: Clock;
  ids: IdSource;
  config: () => Config;
  /** After the commit: the sender has work. */
  wakeSender: () => void;
}

export async function listDrafts(db: Db, conversationId: string): Promise<Draft[]> {
  await requireConversation(db, conversationId);
  return (await draftsRepo.listForConversation(db, conversationId)).map(toDraft);
}

/** Which of these conversations hold a draft waiting for a human (the dashboard ranks them first). */
export function withPendingDrafts(db: Db, conversationIds: string[]): Promise<Set<string>> {
  return draftsRepo.withPendingDrafts(db, conversationIds);
}

/**
 * Approves a pending draft: its text (or `text`, a human's edit) is queued as a manual reply, in the
 * same transaction as the decision, so a draft is approved exactly when its reply is in the outbox.
 */
export async function approveDraft(
  deps: DraftDeps,
  input: { conversationId: string; draftId: string; text?: string; actor: string },
): Promise<Draft> {
  const config = deps.config();
  const out = await withTransaction(deps.db, async (trx) => {
    const now = deps.clock.now();
    const { conv, draft } = await pendingDraft(trx, input.conversationId, input.draftId, 'approved');
    if (config.runtime.status === 'paused') {
      throw new AppError(
        'runtime_paused',
        'the runtime is paused by root: nothing is sent until it is resumed (recovery action resume_runtime)',
      );
    }
    if (conv.window_expires_at === null || conv.window_expires_at <= now) {
      throw new AppError(
        'window_closed',
        'the customer service window is closed (24 h after the customer’s last message); a draft is free text, so it cannot go out now: send an approved template instead',
        {
          window_expires_at: conv.window_expires_at === null ? null : toIso(conv.window_expires_at),
        },
      );
    }
    const contact = await contactsRepo.get(trx, conv.contact_id);
    const to = contact ? recipientOf(contact) : null;
    if (!contact || !to) {
      throw new AppError('invalid_state', 'the customer has neither a phone number nor a user id to send to');
    }
    const text = input.text ?? draft.text;
    await enqueueMarkRead(trx, conv, conv.priority, { ids: deps.ids, now, config });
    const row = await enqueueOutbound(
      trx,
      {
        kind: 'manual',
        phone_number_id: conv.phone_number_id,
        to,
        content: { type: 'text', text },
        conversation_id: conv.id,
        contact_id: contact.id,
        priority: conv.priority,
      },
      { ids: deps.ids, now },
    );
    await draftsRepo.decide(trx, draft.id, {
      state: 'approved',
      decided_by: input.actor,
      sent_text: text,
      outbox_id: row.id,
      at: now,
    });
    await recordEvent(
      trx,
      {
        type: 'draft.resolved',
        conversation_id: conv.id,
        data: {
          draft_id: draft.id,
          resolution: 'approved',
          decided_by: input.actor,
          edited: text !== draft.text,
        },
      },
      { ids: deps.ids, now },
    );
    return (await draftsRepo.get(trx, draft.id)) as DraftRow;
  });
  deps.wakeSender();
  return toDraft(out);
}

/** Discards a pending draft: nothing is sent. */
export async function discardDraft(
  deps: Pick<DraftDeps, 'db' | 'clock' | 'ids'>,
  input: { conversationId: string; draftId: string; actor: string },
): Promise<Draft> {
  return withTransaction(deps.db, async (trx) => {
    const { draft } = await pendingDraft(trx, input.conversationId, input.draftId, 'discarded');
    const now = deps.clock.now();
    await draftsRepo.decide(trx, draft.id, { state: 'discarded', decided_by: input.actor, at: now });
    await recordEvent(
      trx,
      {
        type: 'draft.resolved',
        conversation_id: input.conversationId,
        data: { draft_id: draft.id, resolution: 'discarded', decided_by: input.actor },
      },
      { ids: deps.ids, now },
    );
    return toDraft((await draftsRepo.get(trx, draft.id)) as DraftRow);
  });
}

async function requireConversation(db: Db, id: string) {
  const conv = await conversationsRepo.get(db, id);
  if (!conv) throw new AppError('not_found', `no conversation with id ${JSON.stringify(id.slice(0, 100))}`);
  return conv;
}

/** The conversation and its draft, which must still be pending (409 naming its state otherwise). */
async function pendingDraft(trx: Db, conversationId: string, draftId: string, verb: string) {
  const conv = await requireConversation(trx, conversationId);
  const draft = await draftsRepo.get(trx, draftId);
  if (!draft || draft.conversation_id !== conv.id) {
    throw new AppError(
      'not_found',
      `no draft with id ${JSON.stringify(draftId.slice(0, 100))} in conversation ${conv.id}`,
    );
  }
  if (draft.state !== 'pending') {
    throw new AppError(
      'invalid_state',
      `the draft is ${draft.state}${draft.decided_reason ? ` (${draft.decided_reason})` : ''}; only a pending draft can be ${verb}`,
      { state: draft.state },
    );
  }
  return { conv, draft };
}
