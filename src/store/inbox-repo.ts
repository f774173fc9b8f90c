// The inbox: every signed delivery's raw body, committed before the webhook answers 200, and the
// processing state of each (pending → processed, or retried with backoff and parked as dead).
import type { Db } from './db.js';
import type { InboxState, InboxTable } from './tables.js';

export type InboxRow = InboxTable;

export const inboxRepo = Object.freeze({
  /** One multi-row insert: one statement, one commit (one fsync) for a whole group of deliveries. */
  async insertMany(db: Db, rows: InboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await db.insertInto('inbox').values(rows).execute();
  },

  async get(db: Db, id: string): Promise<InboxRow | undefined> {
    return db.selectFrom('inbox').selectAll().where('id', '=', id).executeTakeFirst();
  },

  /** Pending rows that are due, oldest first (ids are ULIDs: id order is received order). */
  async listDue(db: Db, now: number, limit: number): Promise<InboxRow[]> {
    return db
      .selectFrom('inbox')
      .selectAll()
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('id')
      .limit(limit)
      .execute();
  },

  async countDue(db: Db, now: number): Promise<number> {
    const row = await db
      .selectFrom('inbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async countInState(db: Db, state: InboxState): Promise<number> {
    const row = await db
      .selectFrom('inbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', state)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async markProcessed(db: Db, ids: string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await db
      .updateTable('inbox')
      .set({ state: 'processed', processed_at: now, last_error: null })
      .where('id', 'in', ids)
      .execute();
  },

  async markRetry(db: Db, id: string, attempts: number, nextAttemptAt: number, error: string): Promise<void> {
    await db
      .updateTable('inbox')
      .set({ attempts, next_attempt_at: nextAttemptAt, last_error: error })
      .where('id', '=', id)
      .execute();
  },

  async markDead(db: Db, id: string, attempts: number, error: string, now: number): Promise<void> {
    await db
      .updateTable('inbox')
      .set({ state: 'dead', attempts, last_error: error, processed_at: now })
      .where('id', '=', id)
      .execute();
  },

  /**
   * Recovery: every dead letter back to pending with fresh attempts. Returns how many. processed_at
   * stays set: it tells the processor the row was handled before (its old error records go).
   */
  async replayDeadLetters(db: Db, now: number, ids?: string[]): Promise<number> {
    if (ids?.length === 0) return 0;
    let q = db
      .updateTable('inbox')
      .set({ state: 'pending', attempts: 0, next_attempt_at: now })
      .where('state', '=', 'dead');
    if (ids) q = q.where('id', 'in', ids);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows);
  },

  /**
   * Recovery: processed and dead deliveries received at or after `since` are processed again.
   * Safe because processing is idempotent (wamid, status and event keys). Rejected rows stay rejected.
   */
  async reprocessInboxSince(db: Db, since: number, now: number, ids?: string[]): Promise<number> {
    if (ids?.length === 0) return 0;
    let q = db
      .updateTable('inbox')
      .set({ state: 'pending', attempts: 0, next_attempt_at: now })
      .where('state', 'in', ['processed', 'dead'])
      .where('received_at', '>=', since);
    if (ids) q = q.where('id', 'in', ids);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows);
  },

  /** Retention: drops processed and rejected raw deliveries received before `before`. */
  async purgeBefore(db: Db, before: number): Promise<number> {
    const res = await db
      .deleteFrom('inbox')
      .where('state', 'in', ['processed', 'rejected'])
      .where('received_at', '<', before)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  },
});
