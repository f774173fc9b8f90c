// Reads and deletes for the scheduler's housekeeping (SPEC §6): conversations past their SLA, idle
// pending conversations, processed and rejected raw webhooks past retention, and status events that
// never matched a message. Each is bounded and walks an
// index, so a tick's cost follows the rows it acts on, not the size of the tables.

import type { ConversationRow } from './conversations-repo.js';
import type { Db } from './db.js';
import { forUpdate } from './locking.js';

// Each candidate query once, so the tick's re-check inside its transaction asks exactly the same.
function slaQuery(db: Db, cutoff: number) {
  return db
    .selectFrom('conversations')
    .selectAll()
    .where('queue_state', '=', 'open')
    .where('last_customer_message_at', '<=', cutoff)
    .where('assigned_route', 'in', ['human', 'hybrid']);
}

function idleQuery(db: Db, cutoff: number) {
  return db
    .selectFrom('conversations')
    .selectAll()
    .where('queue_state', '=', 'pending')
    .where('last_message_at', '<=', cutoff)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('follow_ups')
            .select('follow_ups.id')
            .whereRef('follow_ups.conversation_id', '=', 'conversations.id')
            .where('follow_ups.state', 'in', ['scheduled', 'claimed']),
        ),
      ),
    );
}

export const housekeepingRepo = Object.freeze({
  /** Open human/hybrid conversations whose customer has waited since before `cutoff`. */
  async slaCandidates(db: Db, cutoff: number, limit: number): Promise<ConversationRow[]> {
    return slaQuery(db, cutoff).orderBy('last_customer_message_at').limit(limit).execute();
  },

  /**
   * The candidate as it is now, if it still is one (read and locked inside the escalating
   * transaction: the customer may have been answered since the candidates were listed).
   */
  async lockSlaCandidate(db: Db, id: string, cutoff: number): Promise<ConversationRow | undefined> {
    return forUpdate(db, slaQuery(db, cutoff).where('id', '=', id), 'conversations').executeTakeFirst();
  },

  /** Pending conversations with no activity since `cutoff` and no follow-up still to go out. */
  async idleCandidates(db: Db, cutoff: number, limit: number): Promise<ConversationRow[]> {
    return idleQuery(db, cutoff).orderBy('last_message_at').limit(limit).execute();
  },

  /** As lockSlaCandidate, for idle close (the customer may have written since). */
  async lockIdleCandidate(db: Db, id: string, cutoff: number): Promise<ConversationRow | undefined> {
    return forUpdate(db, idleQuery(db, cutoff).where('id', '=', id), 'conversations').executeTakeFirst();
  },

  /**
   * Deletes up to `limit` finished inbox rows (processed, or rejected as not a delivery) received
   * before `cutoff`; returns how many. Dead rows stay for the operator's recovery.
   */
  async purgeFinishedInbox(db: Db, cutoff: number, limit: number): Promise<number> {
    // One state at a time, oldest first: each walks (state, received_at) and stops at the limit
    // (migration 0020); `state in (...)` made SQLite read and sort every finished row on every tick.
    const ids: string[] = [];
    for (const state of ['processed', 'rejected'] as const) {
      if (ids.length >= limit) break;
      const rows = await db
        .selectFrom('inbox')
        .select('id')
        .where('state', '=', state)
        .where('received_at', '<', cutoff)
        .orderBy('received_at')
        .limit(limit - ids.length)
        .execute();
      for (const r of rows) ids.push(r.id);
    }
    if (ids.length === 0) return 0;
    const res = await db.deleteFrom('inbox').where('id', 'in', ids).executeTakeFirst();
    return Number(res.numDeletedRows);
  },

  /** Deletes up to `limit` status events stored before `cutoff` that never matched a message. */
  async purgeUnmatchedStatuses(db: Db, cutoff: number, limit: number): Promise<number> {
    const ids = (
      await db
        .selectFrom('status_events')
        .select('id')
        .where('applied_at', 'is', null)
        .where('created_at', '<', cutoff)
        .orderBy('created_at')
        .limit(limit)
        .execute()
    ).map((r) => r.id);
    if (ids.length === 0) return 0;
    const res = await db.deleteFrom('status_events').where('id', 'in', ids).executeTakeFirst();
    return Number(res.numDeletedRows);
  },
});
