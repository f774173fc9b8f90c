// Delivery status events (sent, delivered, read, played, failed) as Meta reported them. An event
// whose message is not known yet keeps applied_at null until the message appears.
import { sql } from 'kysely';
import type { Db } from './db.js';
import { isPostgres } from './locking.js';
import type { StatusEventsTable } from './tables.js';

export type StatusEventRow = StatusEventsTable;

export const statusEventsRepo = Object.freeze({
  /**
   * Serialises, until commit, the transactions that meet at one wamid: a status arriving and the send
   * result recording its message (PostgreSQL; SQLite's one writer already does). Without it, each
   * could miss the other's uncommitted row under READ COMMITTED: the status is stored unapplied
   * because the message is not there yet, and the message's applyPendingStatuses does not see the
   * status yet, so it is never applied. Taken before either writes; callers take it before any
   * campaign row lock (send-result.ts), the one order.
   */
  async lockWamid(db: Db, wamid: string): Promise<void> {
    if (!isPostgres(db)) return;
    await sql`select pg_advisory_xact_lock(hashtext(${wamid}))`.execute(db);
  },

  /** Stores the event unless the same (wamid, status, timestamp) exists. Returns true if new. */
  async insertIfNew(db: Db, row: StatusEventRow): Promise<boolean> {
    const res = await db
      .insertInto('status_events')
      .values(row)
      .onConflict((oc) => oc.columns(['wamid', 'status', 'timestamp']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  async listUnapplied(db: Db, wamid: string): Promise<StatusEventRow[]> {
    return db
      .selectFrom('status_events')
      .selectAll()
      .where('wamid', '=', wamid)
      .where('applied_at', 'is', null)
      .orderBy('timestamp')
      .orderBy('id')
      .execute();
  },

  async markApplied(db: Db, ids: string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await db.updateTable('status_events').set({ applied_at: now }).where('id', 'in', ids).execute();
  },
});
