// Drafts a responder wrote for a human (route hybrid) and the human's decision on them: approve
// (with the text that went out), discard, or superseded by what happened instead. Inserts are
// conversation-log-repo.ts's addDraft (the responder worker's write).
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import type { Db } from './db.js';
import { preparedQuery } from './prepared-query.js';
import type { Database, DraftState, DraftsTable } from './tables.js';

export type DraftRow = DraftsTable;

export interface DraftDecision {
  state: Exclude<DraftState, 'pending'>;
  decided_by: string;
  decided_reason?: string | null;
  sent_text?: string | null;
  outbox_id?: string | null;
  at: number;
}

/**
 * A conversation's drafts still waiting for a human: the rows supersedePending resolves, and what the
 * inbound read asks after (inbound-hints.ts), so the two cannot drift apart.
 */
export const pendingDraftsOf =
  (conversationId: string | Expression<string>) =>
  (eb: ExpressionBuilder<Database, 'drafts'>): Expression<SqlBool> =>
    eb.and([eb('drafts.conversation_id', '=', conversationId), eb('drafts.state', '=', 'pending')]);

// Runs for a customer message unless the inbound read found no pending draft (prepared-query.ts).
const supersedeDrafts = preparedQuery(3, (db, conversationId: string, reason: string, at: number) =>
  db
    .updateTable('drafts')
    .set({
      state: 'superseded',
      decided_by: 'engine',
      decided_reason: reason,
      decided_at: at,
      updated_at: at,
    })
    .where(pendingDraftsOf(conversationId))
    .returning('id'),
);

export const draftsRepo = Object.freeze({
  async listForConversation(db: Db, conversationId: string, limit = 500): Promise<DraftRow[]> {
    return db
      .selectFrom('drafts')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .orderBy('id')
      .limit(limit)
      .execute();
  },

  /** Which of these conversations hold a draft waiting for a human (the dashboard marks them). */
  async withPendingDrafts(db: Db, conversationIds: string[]): Promise<Set<string>> {
    if (conversationIds.length === 0) return new Set();
    const rows = await db
      .selectFrom('drafts')
      .select('conversation_id')
      .distinct()
      .where('conversation_id', 'in', conversationIds)
      .where('state', '=', 'pending')
      .execute();
    return new Set(rows.map((r) => r.conversation_id));
  },

  async get(db: Db, id: string): Promise<DraftRow | undefined> {
    return db.selectFrom('drafts').selectAll().where('id', '=', id).executeTakeFirst();
  },

  /** Decides a draft that is still pending; false when it was decided meanwhile (nothing changes). */
  async decide(db: Db, id: string, d: DraftDecision): Promise<boolean> {
    const out = await db
      .updateTable('drafts')
      .set({
        state: d.state,
        decided_by: d.decided_by,
        decided_reason: d.decided_reason ?? null,
        sent_text: d.sent_text ?? null,
        outbox_id: d.outbox_id ?? null,
        decided_at: d.at,
        updated_at: d.at,
      })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(out.numUpdatedRows) === 1;
  },

  /** Every pending draft of the conversation becomes superseded; returns their ids. */
  async supersedePending(db: Db, conversationId: string, reason: string, at: number): Promise<string[]> {
    const out = await supersedeDrafts(db, conversationId, reason, at);
    return out.rows.map((r) => r.id);
  },
});
