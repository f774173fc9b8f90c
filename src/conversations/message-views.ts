// Stored messages as the API shows them (SPEC §3a): each with the reactions that stand on it, its
// edit history and revoke time. Used by the conversation detail and the contact detail alike.
import type { Db } from '../store/db.js';
import { type MessageRow, messagesRepo } from '../store/messages-repo.js';
import { type ConversationMessage, currentReactions, toConversationMessage } from './snapshot.js';

export async function messageViews(db: Db, rows: MessageRow[]): Promise<ConversationMessage[]> {
  const reactions = currentReactions(
    await messagesRepo.reactionsTo(
      db,
      rows.map((r) => r.wamid),
    ),
  );
  return rows.map((r) => toConversationMessage(r, reactions.get(r.wamid) ?? []));
}
