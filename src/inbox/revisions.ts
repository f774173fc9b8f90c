// Edits and revokes (SPEC §3a): an `edit` replaces its original's text and keeps the earlier text in
// the original's edit history; a `revoke` marks the original deleted. The original's text, history and
// revoke time are recomputed from every revision stored for it, so the outcome is the same whichever
// arrives first (an edit can come before its original) and however often each is delivered.
import { type EditRecord, parseHistory } from '../conversations/edit-history.js';
import type { Db } from '../store/db.js';
import { messagesRepo } from '../store/messages-repo.js';

/** Brings the message `wamid` up to date with its edits and revokes; no-op when it is not stored. */
export async function applyRevisions(trx: Db, wamid: string): Promise<void> {
  // Revisions first: almost every message has none, and then the original need not be read.
  const revisions = await messagesRepo.revisionsOf(trx, wamid);
  if (revisions.length === 0) return;
  const original = await messagesRepo.findByWamid(trx, wamid);
  if (!original) return;
  const history = parseHistory(original.edit_history);
  // The text as first stored: the oldest history entry, or the current text when never edited.
  let text = history.length > 0 ? (history[0] as EditRecord).text : original.text;
  const next: EditRecord[] = [];
  let editedAt: number | null = null;
  let deletedAt: number | null = null;
  for (const r of revisions) {
    if (r.type === 'revoke') {
      deletedAt ??= r.timestamp;
      continue;
    }
    next.push({ text, replaced_at: r.timestamp });
    text = r.text;
    editedAt = r.timestamp;
  }
  await messagesRepo.setRevision(trx, wamid, {
    text,
    edit_history: next.length > 0 ? JSON.stringify(next) : null,
    edited_at: editedAt,
    deleted_at: deletedAt,
  });
}
