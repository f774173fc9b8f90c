// What the API reads about conversations (SPEC §8): the filtered list newest activity first, one
// conversation's snapshot, and its detail (messages, transitions, follow-ups, drafts). Routes call
// these; the shapes come from snapshot.ts.
import { AppError } from '../lib/app-error.js';
import { toIso } from '../lib/clock.js';
import { isMediaKind } from '../media/media-policy.js';
import { type MediaView, toMediaView } from '../media/media-view.js';
import { conversationLogRepo } from '../store/conversation-log-repo.js';
import {
  type ActivityKey,
  type ConversationFilters,
  type ConversationView,
  conversationsRepo,
} from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import { draftsRepo } from '../store/drafts-repo.js';
import { followUpsRepo } from '../store/follow-ups-repo.js';
import { mediaRepo } from '../store/media-repo.js';
import { type MessageRow, messagesRepo } from '../store/messages-repo.js';
import { toDraft } from './drafts.js';
import { messageViews } from './message-views.js';
import { toSnapshot } from './snapshot.js';

/** Conversations matching every filter, newest activity first, strictly after `after`. */
export function listConversations(
  db: Db,
  filters: ConversationFilters,
  limit: number,
  after?: ActivityKey,
): Promise<ConversationView[]> {
  return conversationsRepo.listViews(db, filters, limit, after);
}

/** The conversation as the API shows it, or undefined when there is none with that id. */
export function findConversation(db: Db, id: string): Promise<ConversationView | undefined> {
  return conversationsRepo.getView(db, id);
}

/** One conversation with its latest `messageLimit` messages in timestamp order and its history. */
export async function conversationDetail(db: Db, id: string, messageLimit: number) {
  const row = await conversationsRepo.getView(db, id);
  if (!row) throw new AppError('not_found', `no conversation with id ${JSON.stringify(id.slice(0, 100))}`);
  const messages = await messagesRepo.listForConversation(db, id, messageLimit + 1);
  const truncated = messages.length > messageLimit;
  const shown = truncated ? messages.slice(1) : messages;
  const media = await mediaByMessage(db, shown);
  return {
    ...toSnapshot(row),
    messages: (await messageViews(db, shown)).map((m) => ({ ...m, media: media.get(m.wamid) ?? null })),
    messages_truncated: truncated,
    transitions: (await conversationLogRepo.transitions(db, id)).map((t) => ({
      from: t.from_state,
      to: t.to_state,
      reason: t.reason,
      actor: t.actor,
      at: toIso(t.at),
    })),
    follow_ups: (await followUpsRepo.listForConversation(db, id)).map((f) => ({
      id: f.id,
      rule_id: f.rule_id,
      due_at: toIso(f.due_at),
      state: f.state,
      sent_wamid: f.sent_wamid,
      skip_reason: f.skip_reason,
    })),
    drafts: (await draftsRepo.listForConversation(db, id)).map(toDraft),
    // What became of each reply the engine asked for: why none came is the question a newcomer asks.
    auto_replies: (await conversationLogRepo.responderJobs(db, id)).map((j) => ({
      mode: j.mode,
      state: j.state,
      outcome: j.outcome,
      created_at: toIso(j.created_at),
      updated_at: toIso(j.updated_at),
    })),
  };
}

/** The media of the image, audio, video, document and sticker messages among `messages`, by wamid. */
async function mediaByMessage(db: Db, messages: MessageRow[]): Promise<Map<string | null, MediaView>> {
  const wamids = messages.filter((m) => isMediaKind(m.type)).map((m) => m.wamid);
  return new Map((await mediaRepo.listForMessages(db, wamids)).map((r) => [r.message_wamid, toMediaView(r)]));
}
