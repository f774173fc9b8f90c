// The engine's records beside a conversation: its transitions (from, to, reason, actor, time), the
// drafts a responder wrote for a human (route hybrid), and responder jobs (the responder's network
// call runs outside any transaction, so the engine leaves a job row for the worker).
import type { Db } from './db.js';
import { preparedByColumns } from './prepared-query.js';
import type { ConversationTransitionsTable, DraftsTable, ResponderJobsTable } from './tables.js';

export type TransitionRow = ConversationTransitionsTable;
export type DraftRow = DraftsTable;
export type NewDraftRow = Pick<
  DraftRow,
  'id' | 'conversation_id' | 'text' | 'source' | 'state' | 'created_at' | 'updated_at'
>;
export type ResponderJobRow = ResponderJobsTable;

// Written by the engine for most inbound messages (prepared-query.ts).
const insertTransition = preparedByColumns((db, row: TransitionRow) =>
  db.insertInto('conversation_transitions').values(row),
);
const insertResponderJob = preparedByColumns((db, row: ResponderJobRow) =>
  db.insertInto('responder_jobs').values(row),
);

export const conversationLogRepo = Object.freeze({
  async addTransitions(db: Db, rows: TransitionRow[]): Promise<void> {
    if (rows.length === 0) return;
    // One transition is the common case; several go in one multi-row insert.
    if (rows.length === 1) await insertTransition(db, rows[0] as TransitionRow);
    else await db.insertInto('conversation_transitions').values(rows).execute();
  },

  async transitions(db: Db, conversationId: string, limit = 500): Promise<TransitionRow[]> {
    return db
      .selectFrom('conversation_transitions')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .orderBy('at')
      .orderBy('id')
      .limit(limit)
      .execute();
  },

  /** A new pending draft (decisions are drafts-repo.ts's). */
  async addDraft(db: Db, row: NewDraftRow): Promise<void> {
    await db
      .insertInto('drafts')
      .values({
        ...row,
        sent_text: null,
        outbox_id: null,
        decided_by: null,
        decided_reason: null,
        decided_at: null,
      })
      .execute();
  },

  async addResponderJob(db: Db, row: ResponderJobRow): Promise<void> {
    await insertResponderJob(db, row);
  },

  /** A conversation's responder jobs, oldest first: what became of each reply the engine asked for. */
  async responderJobs(db: Db, conversationId: string, limit = 200): Promise<ResponderJobRow[]> {
    return db
      .selectFrom('responder_jobs')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute();
  },
});
